"""The test workers' machine lock: a test that times code waits for the running ones and
keeps new ones out."""
import threading
import time

import pytest

from . import machine_share


class _Factory:
    """The one method of pytest's TempPathFactory that machine_share uses."""

    def __init__(self, base):
        self.base = base

    def getbasetemp(self):
        return self.base


@pytest.fixture
def factory(tmp_path, monkeypatch):
    monkeypatch.setenv('PYTEST_XDIST_WORKER', 'gw0')
    (tmp_path / 'gw0').mkdir()
    return _Factory(tmp_path / 'gw0')


def test_alone_waits_for_running_tests_and_holds_off_new_ones(factory):
    events = []
    running, release = threading.Event(), threading.Event()

    def running_test():
        with machine_share.shared(factory):
            events.append('test starts')
            running.set()
            release.wait(5)
            events.append('test ends')

    def timing_test():
        with machine_share.alone(factory):
            events.append('timing starts')
            time.sleep(0.2)
            events.append('timing ends')

    def later_test():
        with machine_share.shared(factory):
            events.append('later test')

    first = threading.Thread(target=running_test)
    first.start()
    running.wait(5)
    timing = threading.Thread(target=timing_test)
    timing.start()
    time.sleep(0.2)  # the timing test now waits for the machine
    later = threading.Thread(target=later_test)
    later.start()
    time.sleep(0.2)
    assert events == ['test starts']
    release.set()
    for t in (first, timing, later):
        t.join(5)
    assert events == ['test starts', 'test ends', 'timing starts', 'timing ends', 'later test']


def test_one_process_takes_no_locks(tmp_path, monkeypatch):
    monkeypatch.delenv('PYTEST_XDIST_WORKER', raising=False)
    with machine_share.alone(_Factory(tmp_path / 'gw0')), \
            machine_share.shared(_Factory(tmp_path / 'gw0')):
        pass
    assert list(tmp_path.iterdir()) == []
