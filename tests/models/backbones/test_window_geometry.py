import pytest
import torch

from sparsevit.models.backbones import window_geometry as window_geometry_module
from sparsevit.models.backbones.window_geometry import (MASK_VALUE, from_windows, map_from_windows,
                                                        retain_geometries, to_windows,
                                                        window_geometry)

from .reference import partition


def mmdet_style_shift_mask(hp: int, wp: int, window: int, shift: int) -> torch.Tensor:
    """The SW-MSA mask as mmdet builds it: region labels from three slices per axis."""
    img_mask = torch.zeros((1, hp, wp))
    slices = (slice(0, -window), slice(-window, -shift), slice(-shift, None))
    label = 0
    for hs in slices:
        for ws in slices:
            img_mask[:, hs, ws] = label
            label += 1
    labels = partition(img_mask, window)[0]
    mask = labels.unsqueeze(1) - labels.unsqueeze(2)
    return mask.masked_fill(mask != 0, MASK_VALUE).masked_fill(mask == 0, 0.0)


@pytest.mark.parametrize('height, width', [(14, 14), (9, 23), (7, 7), (3, 5)])
def test_shifted_index_is_roll_then_partition(height, width):
    window, shift = 7, 3
    geo = window_geometry(height, width, window, shift, torch.device('cpu'))
    hp, wp = geo.rows * window, geo.cols * window
    ids = torch.arange(hp * wp).view(1, hp, wp)
    regular = partition(ids, window)[0].reshape(-1)  # id at each regular-layout position
    shifted = partition(torch.roll(ids, (-shift, -shift), (1, 2)), window)[0]
    assert torch.equal(regular[geo.shifted_index], shifted)
    assert torch.equal(geo.shift_mask, mmdet_style_shift_mask(hp, wp, window, shift))
    # only the windows of the last row and column mix regions of the cyclic shift
    masked = geo.shift_mask.flatten(1).ne(0).any(1).view(geo.rows, geo.cols)
    boundary = torch.zeros(geo.rows, geo.cols, dtype=torch.bool)
    boundary[-1, :] = boundary[:, -1] = True
    assert torch.equal(masked, boundary)


@pytest.mark.parametrize('height, width', [(14, 21), (9, 23), (61, 40), (5, 3)])
@pytest.mark.parametrize('exporting', [False, True])  # zeros and a copy; or pad and a copy
def test_window_layout_round_trip_and_padding(height, width, exporting, monkeypatch):
    monkeypatch.setattr(window_geometry_module, 'is_exporting', lambda: exporting)
    geo = window_geometry(height, width, 7, 3, torch.device('cpu'))
    x = torch.randn(2, height * width, 5, requires_grad=True)
    windows = to_windows(x, geo)
    windows.sum().backward()  # every token lands in the layout once
    assert torch.equal(x.grad, torch.ones_like(x))
    x, windows = x.detach(), windows.detach()
    assert windows.shape == (2 * geo.num_windows, 49, 5)
    assert windows.data_ptr() != x.data_ptr()
    assert torch.equal(from_windows(windows, 2, geo), x)
    if geo.padded:
        valid = geo.valid.repeat(2, 1)
        assert torch.all(windows[~valid] == 0)
        assert int(valid.sum()) == 2 * height * width
    else:
        assert geo.valid is None and geo.shifted_valid is None


def test_geometry_is_cached_per_shape():
    cpu = torch.device('cpu')
    assert window_geometry(14, 14, 7, 3, cpu) is window_geometry(14, 14, 7, 3, cpu)
    assert window_geometry(14, 14, 7, 3, cpu) is not window_geometry(14, 21, 7, 3, cpu)


def test_retained_geometries_outlive_the_cache():
    with retain_geometries() as retained:
        geo = window_geometry(8, 8, 4, 2, torch.device('cpu'))
        assert window_geometry(8, 8, 4, 2, torch.device('cpu')) is geo  # cached
    window_geometry(12, 12, 4, 2, torch.device('cpu'))  # after the context: not collected
    assert len(retained) == 1 and retained[id(geo)] is geo


@pytest.mark.parametrize('height, width, batch',
                         [(14, 21, 1), (9, 23, 2), (61, 40, 3), (5, 3, 2)])
@pytest.mark.parametrize('inference, exporting', [(True, False), (False, False), (True, True)])
@pytest.mark.parametrize('with_norm', [False, True])
def test_channels_first_map_from_windows(height, width, batch, inference, exporting, with_norm,
                                         monkeypatch):
    # small pieces, so that the CPU path copies several rows of windows at a time
    monkeypatch.setattr(window_geometry_module, 'CPU_CHUNK_BYTES', 3000)
    monkeypatch.setattr(window_geometry_module, 'is_exporting', lambda: exporting)
    geo = window_geometry(height, width, 7, 3, torch.device('cpu'))
    x = torch.randn(batch, height * width, 5)
    windows = to_windows(x, geo)
    norm = torch.nn.LayerNorm(5) if with_norm else None
    if norm is not None:
        torch.nn.init.normal_(norm.weight)
        x = norm(x).detach()
    with torch.inference_mode(inference):
        out = map_from_windows(windows, batch, geo, norm)
    assert out.is_contiguous()
    assert torch.equal(out, x.view(batch, height, width, 5).permute(0, 3, 1, 2))
