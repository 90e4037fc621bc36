"""How this process's C allocator returns memory, which decides much of a CPU forward's time.

glibc's malloc serves a large request from fresh pages of the system (above its mmap
threshold) and hands the free top of its heap back to the system (above its trim
threshold), and it moves both thresholds as the process frees memory. Every fresh page
costs a page fault at its first touch, so a CPU forward that makes stage-sized tensors runs
at a speed that depends on what the process allocated before: two processes timing the same
backbone differ by 10% and more, and at Swin-T 672x672 on a 2-core CPU the page faults take
a third of the dense forward. :func:`keep_freed_memory` fixes the two thresholds so that
freed memory is reused: timings become repeatable between processes and CPU inference runs
faster. It costs memory that the process no longer returns to the system.
"""
import ctypes
import os
from typing import Callable, Optional

# environment variables that decide how a process gets and returns memory (glibc's malloc,
# a preloaded allocator such as jemalloc or tcmalloc): on a CPU they change every latency
ALLOCATOR_VARIABLES = ('MALLOC_MMAP_THRESHOLD_', 'MALLOC_TRIM_THRESHOLD_', 'MALLOC_TOP_PAD_',
                       'MALLOC_ARENA_MAX', 'GLIBC_TUNABLES', 'LD_PRELOAD')
# mallopt parameters (malloc.h) and the values :func:`keep_freed_memory` sets
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
MALLOPT_CODES = {'M_MMAP_THRESHOLD': M_MMAP_THRESHOLD, 'M_TRIM_THRESHOLD': M_TRIM_THRESHOLD}
KEPT_MEMORY = {'M_MMAP_THRESHOLD': 32 * 2**20,  # the largest glibc allows on 64-bit
               'M_TRIM_THRESHOLD': 2**31 - 1}  # the largest an int holds: never trim
ALLOCATORS = ('keep-freed', 'default')
DEFAULT_ALLOCATOR = 'keep-freed'

_applied: dict[str, int] = {}  # what keep_freed_memory set in this process


def _glibc_mallopt() -> Optional[Callable[[int, int], int]]:
    """glibc's ``mallopt``, or None where the C library is another (musl, macOS, Windows)."""
    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version  # only glibc has it
        return libc.mallopt
    except (OSError, AttributeError):
        return None


def keep_freed_memory() -> dict[str, int]:
    """Make glibc's malloc reuse the memory this process frees: fixed thresholds, large
    tensors from the heap, no trimming. Returns the settings in effect (empty where the C
    library is not glibc, or where the environment already sets the allocator: a choice of
    the user's, left alone and recorded by :func:`allocator_settings`)."""
    if _applied or any(os.environ.get(name) for name in ALLOCATOR_VARIABLES):
        return dict(_applied)
    mallopt = _glibc_mallopt()
    if mallopt is None:
        return {}
    for name, value in KEPT_MEMORY.items():
        if mallopt(MALLOPT_CODES[name], value) == 1:
            _applied[name] = value
    return dict(_applied)


def use_allocator(name: str) -> dict:
    """Apply the allocator setting ``name`` (one of :data:`ALLOCATORS`; ``'default'`` changes
    nothing) and return :func:`allocator_settings`."""
    if name not in ALLOCATORS:
        raise ValueError(f'unknown allocator setting {name!r}: use one of {list(ALLOCATORS)}')
    if name == 'keep-freed':
        keep_freed_memory()
    return allocator_settings()


def allocator_settings() -> dict:
    """What decides this process's allocations: the variables of :data:`ALLOCATOR_VARIABLES`
    set in its environment, and ``'mallopt'``, what :func:`keep_freed_memory` set."""
    settings: dict = {name: os.environ[name] for name in ALLOCATOR_VARIABLES
                      if os.environ.get(name)}
    if _applied:
        settings['mallopt'] = dict(_applied)
    return settings
