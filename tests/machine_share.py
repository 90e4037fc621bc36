"""The machine to one test alone while it times code, when pytest-xdist runs tests in workers.

Every test holds a shared lock while it runs (``shared``); a test whose outcome depends on
timings (the demo searches against latency measured on this machine) waits for an exclusive
one (``alone``), so no other worker competes for the cores while it measures. A turnstile
keeps the workers that start new tests from starving the one that waits for the machine.
Without workers both are no-ops.
"""
import fcntl
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Optional

import pytest


def _lock_dir(factory: pytest.TempPathFactory) -> Optional[Path]:
    """The folder all workers of this run share (their base folders' parent), or None when
    the tests run in one process."""
    if 'PYTEST_XDIST_WORKER' not in os.environ:
        return None
    return factory.getbasetemp().parent


@contextmanager
def _flock(path: Path, mode: int) -> Iterator[None]:
    with open(path, 'a') as f:
        fcntl.flock(f, mode)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


@contextmanager
def shared(factory: pytest.TempPathFactory) -> Iterator[None]:
    """Run beside other tests, but not beside one that has the machine alone."""
    folder = _lock_dir(factory)
    if folder is None:
        yield
        return
    with _flock(folder / 'turnstile.lock', fcntl.LOCK_EX):
        pass
    with _flock(folder / 'machine.lock', fcntl.LOCK_SH):
        yield


@contextmanager
def alone(factory: pytest.TempPathFactory) -> Iterator[None]:
    """Have the machine alone: wait until the running tests end; start no new ones meanwhile.

    Call it outside ``shared`` (a module-scoped fixture is set up before the function-scoped
    ones of its first test), or the worker waits for itself.
    """
    folder = _lock_dir(factory)
    if folder is None:
        yield
        return
    with _flock(folder / 'turnstile.lock', fcntl.LOCK_EX), \
            _flock(folder / 'machine.lock', fcntl.LOCK_EX):
        yield
