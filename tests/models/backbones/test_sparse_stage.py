"""Window selection and the sparse stage against the slow reference."""
import pytest
import torch
from mmdet.models.backbones.swin import SwinBlockSequence

from sparsevit.models.backbones import sparse_stage
from sparsevit.models.backbones.sparse_stage import WindowSelector, forward_stage
from sparsevit.models.backbones.window_geometry import to_windows, window_geometry

from .reference import partition, randomize_, reference_stage


def make_stage(depth: int, channels: int = 16, window: int = 4) -> SwinBlockSequence:
    stage = SwinBlockSequence(channels, num_heads=2, feedforward_channels=2 * channels,
                              depth=depth, window_size=window)
    return randomize_(stage).double().eval()


def windows_scaled(scales: torch.Tensor, window: int, channels: int = 16) -> torch.Tensor:
    """``(B, H * W, C)`` features whose regular window ``w`` has magnitude ~ ``scales[b, w]``."""
    b, rows, cols = scales.shape
    noise = torch.rand(b, rows, window, cols, window, channels, dtype=torch.float64) + 0.5
    x = noise * scales.view(b, rows, 1, cols, 1, 1)
    return x.view(b, rows * window * cols * window, channels)


def test_one_regular_block_keeps_the_top_windows_and_passes_the_rest():
    stage = make_stage(1)
    scales = torch.tensor([[[1., 9., 2.], [8., 3., 7.]], [[9., 1., 2.], [1., 1., 8.]]],
                          dtype=torch.float64)
    x = windows_scaled(scales, 4)  # 2 images, 8 x 12 tokens, 2 x 3 windows
    out = forward_stage(stage.blocks, [0.5], x, (8, 12))  # keeps floor(6 * 0.5) = 3
    dense = stage.blocks[0](x, (8, 12))
    kept = {0: {1, 3, 5}, 1: {0, 2, 5}}  # per image
    hp_ids = partition(torch.arange(96).view(1, 8, 12), 4)[0]
    for b in range(2):
        for w in range(6):
            tokens = hp_ids[w]
            expected = dense[b, tokens] if w in kept[b] else x[b, tokens]
            assert torch.allclose(out[b, tokens], expected, atol=1e-10), (b, w)


def test_shifted_block_ranks_windows_of_the_rolled_map():
    window, shift = 4, 2
    hot = torch.zeros(1, 8, 8, dtype=torch.float64)
    hot[0, 6:8, 6:8] = 10.0  # in the rolled frame these tokens sit in shifted window 3 ...
    hot[0, 0:2, 0:2] = 10.0  # ... and so do these, after the cyclic roll by -2
    x = (torch.rand(1, 8, 8, 16, dtype=torch.float64) * 0.1 + hot[..., None]).view(1, 64, 16)
    geo = window_geometry(8, 8, window, shift, torch.device('cpu'))
    selector = WindowSelector(geo, batch=1)
    windows = to_windows(x, geo)
    regular = selector.kept(windows, shifted=False, ratio=0.5)
    shifted = selector.kept(windows, shifted=True, ratio=0.75)
    assert shifted.tolist() == [[3]]
    assert regular.tolist() == [[0, 3]]  # the hot tokens sit in regular windows 0 and 3


def test_selection_is_shared_and_nested_within_a_stage():
    geo = window_geometry(16, 16, 4, 2, torch.device('cpu'))
    selector = WindowSelector(geo, batch=2)
    first = torch.rand(2 * 16, 16, 8)
    top_half = selector.kept(first, shifted=False, ratio=0.5)
    other = torch.rand(2 * 16, 16, 8)  # later blocks see other features ...
    top_quarter = selector.kept(other, shifted=False, ratio=0.75)
    for b in range(2):  # ... yet reuse the first scoring: nested subsets
        assert set(top_quarter[b].tolist()) < set(top_half[b].tolist())
    assert selector.kept(other, shifted=False, ratio=0.0) is None
    assert selector.kept(other, shifted=True, ratio=0.01).shape == (2, 15)  # floor(15.84)
    assert selector.kept(other, shifted=True, ratio=0.07).shape == (2, 14)


@pytest.mark.parametrize('hw', [(8, 12), (10, 13), (5, 3)])
@pytest.mark.parametrize('ratios', [
    (0.5, 0.5, 0.75, 0.75), (0.0, 0.3, 0.3, 0.6), (0.0, 0.0, 0.0, 0.0), (0.0, 0.0, 0.2, 0.9)])
def test_stage_matches_reference(hw, ratios):
    stage = make_stage(4)
    x = torch.randn(3, hw[0] * hw[1], 16, dtype=torch.float64)
    expected = reference_stage(stage, ratios, x, hw)
    out = forward_stage(stage.blocks, ratios, x, hw)
    torch.testing.assert_close(out, expected, rtol=0, atol=1e-10)


@pytest.mark.parametrize('inference', [True, False])
def test_window_magnitudes_in_pieces_equal_the_whole(inference, monkeypatch):
    monkeypatch.setattr(sparse_stage, 'CPU_CHUNK_BYTES', 5000)
    geo = window_geometry(23, 30, 7, 3, torch.device('cpu'))
    windows = torch.randn(2 * geo.num_windows, 49, 16)
    with torch.inference_mode(inference):
        mags = WindowSelector(geo, 2)._token_magnitudes(windows)
    expected = windows.abs().mean(dim=-1).view(2, geo.num_windows, 49) * geo.valid
    assert torch.equal(mags, expected)
