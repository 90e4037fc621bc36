import pytest
import torch
from mmdet.models.layers import PatchMerging

from sparsevit.models.backbones import patch_merging as patch_merging_module
from sparsevit.models.backbones.patch_merging import merge_patches, merge_windows, merged_shape
from sparsevit.models.backbones.window_geometry import to_windows, window_geometry


@pytest.mark.parametrize('hw', [(8, 12), (7, 12), (8, 9), (5, 5)])
@pytest.mark.parametrize('padding, norm_cfg', [('corner', dict(type='LN')), (0, dict(type='LN')),
                                               ('corner', None)])
def test_equals_mmdets_patch_merging(hw, padding, norm_cfg):
    torch.manual_seed(0)
    merging = PatchMerging(6, 12, padding=padding, norm_cfg=norm_cfg).eval()
    x = torch.randn(2, hw[0] * hw[1], 6)
    with torch.no_grad():
        expected, expected_hw = merging(x, hw)
        out, out_hw = merge_patches(merging, x, hw)
    assert out_hw == expected_hw
    assert out.shape == expected.shape
    assert torch.allclose(out, expected, atol=1e-6)


def test_a_norm_without_affine_parameters():
    torch.manual_seed(0)
    merging = PatchMerging(6, 12).eval()
    merging.norm = torch.nn.LayerNorm(24, elementwise_affine=False)
    x = torch.randn(1, 8 * 8, 6)
    with torch.no_grad():
        assert torch.allclose(merge_patches(merging, x, (8, 8))[0], merging(x, (8, 8))[0],
                              atol=1e-6)


def test_other_mergings_run_the_modules_own_forward():
    torch.manual_seed(0)
    merging = PatchMerging(4, 8, kernel_size=3, stride=2, padding='same').eval()
    x = torch.randn(1, 7 * 7, 4)
    with torch.no_grad():
        expected, expected_hw = merging(x, (7, 7))
        out, out_hw = merge_patches(merging, x, (7, 7))
    assert out_hw == expected_hw and torch.equal(out, expected)


def test_gradients_match():
    torch.manual_seed(0)
    merging = PatchMerging(6, 12)
    x = torch.randn(1, 6 * 10, 6, requires_grad=True)
    merging(x, (6, 10))[0].square().sum().backward()
    expected = [x.grad.clone(), merging.reduction.weight.grad.clone()]
    x.grad, merging.reduction.weight.grad = None, None
    merge_patches(merging, x, (6, 10))[0].square().sum().backward()
    assert torch.allclose(x.grad, expected[0], atol=1e-6)
    assert torch.allclose(merging.reduction.weight.grad, expected[1], atol=1e-6)


@pytest.mark.parametrize('hw', [(14, 28), (15, 22), (29, 9)])
@pytest.mark.parametrize('padding, bias', [('corner', False), (0, False), ('corner', True)])
@pytest.mark.parametrize('in_pieces', [True, False])  # CPU inference; or one gather (autograd)
def test_merging_between_window_layouts(hw, padding, bias, in_pieces, monkeypatch):
    """merge_windows makes the next stage's window layout of what merge_patches makes of the
    token map, at every real token (padding tokens of the next layout are left unspecified)."""
    # pieces of 5 merged tokens (4 * 6 channels * 4 bytes each): several per image
    monkeypatch.setattr(patch_merging_module, 'CPU_CHUNK_BYTES', 500)
    torch.manual_seed(0)
    merging = PatchMerging(6, 12, padding=padding, bias=bias).eval()
    torch.nn.init.normal_(merging.norm.weight)
    x = torch.randn(2, hw[0] * hw[1], 6)
    cpu = torch.device('cpu')
    geo = window_geometry(*hw, 7, 3, cpu)
    with torch.no_grad():
        tokens, out_hw = merge_patches(merging, x, hw)
        out_geo = window_geometry(*merged_shape(merging, hw), 4, 2, cpu)
        windows = to_windows(x, geo)
    with torch.set_grad_enabled(not in_pieces):
        windows = merge_windows(merging, windows, 2, geo, out_geo).detach()
    assert (out_geo.height, out_geo.width) == out_hw
    assert windows.shape == (2 * out_geo.num_windows, 16, 12)
    expected = to_windows(tokens, out_geo)
    real = torch.ones(2 * out_geo.num_windows, 16, dtype=torch.bool)
    if out_geo.padded:
        real = out_geo.valid.repeat(2, 1)
    assert torch.allclose(windows[real], expected[real], atol=1e-6)


def test_merge_index_made_in_inference_mode_serves_training():
    """The cached index outlives the forward that built it: a training forward saves it for
    backward, which inference tensors cannot be (torch < 2.2 refuses)."""
    torch.manual_seed(0)
    merging = PatchMerging(6, 12).train()
    cpu = torch.device('cpu')
    # a shape no other test merges: the index is first built here, in inference mode
    geo, out_geo = window_geometry(17, 26, 7, 3, cpu), window_geometry(9, 13, 4, 2, cpu)
    windows = to_windows(torch.randn(2, 17 * 26, 6), geo)
    with torch.inference_mode():
        merge_windows(merging, windows, 2, geo, out_geo)
    x = windows.clone().requires_grad_()
    merge_windows(merging, x, 2, geo, out_geo).square().sum().backward()
    assert x.grad is not None and merging.reduction.weight.grad is not None


def test_reordered_weights_are_kept_until_a_parameter_changes():
    torch.manual_seed(0)
    merging = PatchMerging(6, 12).eval()
    x = torch.randn(1, 8 * 8, 6)
    with torch.no_grad():
        merge_patches(merging, x, (8, 8))
        kept = merging.__dict__['_patch_major_cache'][1]
        merge_patches(merging, x, (8, 8))
        assert merging.__dict__['_patch_major_cache'][1] is kept  # not made again
        merging.reduction.weight.mul_(2)  # as an optimizer step would
        assert torch.allclose(merge_patches(merging, x, (8, 8))[0], merging(x, (8, 8))[0],
                              atol=1e-6)
        merging.load_state_dict(PatchMerging(6, 12).state_dict())
        assert torch.allclose(merge_patches(merging, x, (8, 8))[0], merging(x, (8, 8))[0],
                              atol=1e-6)
