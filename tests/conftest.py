"""Shared fixtures: small Swin architectures that keep CPU tests fast."""
import os
import shutil
import tempfile

import pytest
import torch

from . import machine_share
from .helpers import forget_visualizers

# four stages with several windows each at 128 x 128 input (window 4)
TINY_SWIN = dict(embed_dims=24, depths=(2, 2, 4, 2), num_heads=(1, 2, 4, 8), window_size=4,
                 drop_path_rate=0.0)


def pytest_report_header(config: pytest.Config) -> str:
    """Name the free space where the tests write: a full disk shows up as errors everywhere."""
    basetemp = config.option.basetemp or tempfile.gettempdir()
    free_gib = shutil.disk_usage(basetemp if os.path.isdir(basetemp) else '.').free / 2**30
    return f'free disk space for test files: {free_gib:.1f} GiB in {basetemp}'


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.fixture(autouse=True)
def _machine_shared(tmp_path_factory):
    """Every test runs beside others, except beside one that times code (machine_share)."""
    with machine_share.shared(tmp_path_factory):
        yield


@pytest.fixture(autouse=True)
def _allocator_untouched(monkeypatch):
    """Tools that reuse freed memory record it but leave the test process's malloc alone
    (tests/analysis/test_allocator.py sets it for real, in a child process)."""
    from sparsevit.analysis import allocator
    monkeypatch.setattr(allocator, '_applied', {})
    monkeypatch.setattr(allocator, '_glibc_mallopt', lambda: lambda code, value: 1)


@pytest.fixture(autouse=True)
def _fresh_visualizers():
    """Runners of a later test build their visualizers anew (see forget_visualizers)."""
    yield
    forget_visualizers()


@pytest.fixture
def tiny_swin_kwargs() -> dict:
    return dict(TINY_SWIN)
