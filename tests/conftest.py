"""Shared fixtures: small Swin architectures that keep CPU tests fast."""
import pytest
import torch

# four stages with several windows each at 128 x 128 input (window 4)
TINY_SWIN = dict(embed_dims=24, depths=(2, 2, 4, 2), num_heads=(1, 2, 4, 8), window_size=4,
                 drop_path_rate=0.0)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.fixture
def tiny_swin_kwargs() -> dict:
    return dict(TINY_SWIN)
