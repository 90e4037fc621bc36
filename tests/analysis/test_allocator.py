"""sparsevit.analysis.allocator: glibc's malloc told to reuse freed memory, and what is recorded."""
import json
import os
import platform
import subprocess
import sys

import pytest

from sparsevit.analysis import allocator
from sparsevit.analysis.allocator import (ALLOCATOR_VARIABLES, KEPT_MEMORY, M_MMAP_THRESHOLD,
                                          M_TRIM_THRESHOLD, allocator_settings, keep_freed_memory,
                                          use_allocator)

from ..helpers import REPO


@pytest.fixture
def calls(monkeypatch) -> list:
    """The mallopt calls of the test, with no allocator variable in the environment."""
    for name in ALLOCATOR_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    made: list = []
    monkeypatch.setattr(allocator, '_glibc_mallopt',
                        lambda: lambda code, value: made.append((code, value)) or 1)
    return made


def test_keep_freed_memory_fixes_both_thresholds_once(calls):
    assert keep_freed_memory() == KEPT_MEMORY
    assert calls == [(M_MMAP_THRESHOLD, 32 * 2**20), (M_TRIM_THRESHOLD, 2**31 - 1)]
    assert keep_freed_memory() == KEPT_MEMORY and len(calls) == 2  # already in effect
    assert allocator_settings() == {'mallopt': KEPT_MEMORY}


def test_a_setting_that_malloc_refuses_is_not_recorded(calls, monkeypatch):
    monkeypatch.setattr(allocator, '_glibc_mallopt',
                        lambda: lambda code, value: int(code == M_TRIM_THRESHOLD))
    assert keep_freed_memory() == {'M_TRIM_THRESHOLD': 2**31 - 1}


def test_an_allocator_chosen_in_the_environment_is_left_alone(calls, monkeypatch):
    monkeypatch.setenv('LD_PRELOAD', '/usr/lib/libjemalloc.so.2')
    assert keep_freed_memory() == {} and calls == []
    assert use_allocator('keep-freed') == {'LD_PRELOAD': '/usr/lib/libjemalloc.so.2'}


def test_another_c_library_gets_nothing_set(calls, monkeypatch):
    monkeypatch.setattr(allocator, '_glibc_mallopt', lambda: None)
    assert keep_freed_memory() == {} and allocator_settings() == {}


def test_use_allocator_applies_a_named_setting_and_refuses_others(calls):
    assert use_allocator('default') == {} and calls == []
    assert use_allocator('keep-freed') == {'mallopt': KEPT_MEMORY}
    with pytest.raises(ValueError, match="unknown allocator setting 'jemalloc': use one of "
                       r"\['keep-freed', 'default'\]"):
        use_allocator('jemalloc')


@pytest.mark.skipif(platform.libc_ver()[0] != 'glibc', reason='glibc only')
def test_glibc_takes_the_settings():
    code = ('import json; from sparsevit.analysis.allocator import keep_freed_memory; '
            'print(json.dumps(keep_freed_memory()))')
    env = {k: v for k, v in os.environ.items() if k not in ALLOCATOR_VARIABLES}
    env['PYTHONPATH'] = os.pathsep.join(  # the plugin, then what this stack has on the path
        [str(REPO / 'projects' / 'sparsevit'), *filter(None, [os.environ.get('PYTHONPATH')])])
    out = subprocess.run([sys.executable, '-c', code], env=env, capture_output=True, text=True,
                         check=True).stdout
    assert json.loads(out.strip().splitlines()[-1]) == KEPT_MEMORY
