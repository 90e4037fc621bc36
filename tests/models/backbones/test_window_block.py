"""Window attention gives the same result with and without torch 2.1's ``scale`` argument."""
import pytest
import torch

from sparsevit import SparseSwinTransformer
from sparsevit.models.backbones import window_block
from sparsevit.models.backbones.window_block import scaled_attention


@pytest.mark.parametrize('scale', [16 ** -0.5, 0.1])  # Swin's default for dim 16, a qk_scale
def test_attention_without_the_scale_argument_is_the_same(scale, monkeypatch):
    q, k, v = torch.randn(3, 5, 2, 49, 16).unbind(0)
    mask = torch.randn(5, 2, 49, 49)
    with_scale = scaled_attention(q, k, v, mask, 0.0, scale)
    monkeypatch.setattr(window_block, 'SDPA_TAKES_SCALE', False)  # torch 2.0
    torch.testing.assert_close(scaled_attention(q, k, v, mask, 0.0, scale), with_scale,
                               rtol=1e-5, atol=1e-6)


def test_default_scale_is_not_passed(monkeypatch):
    """Swin's scale is the fused attention's default: the call leaves ``scale`` out."""
    calls = []
    fused = torch.nn.functional.scaled_dot_product_attention
    monkeypatch.setattr(torch.nn.functional, 'scaled_dot_product_attention',
                        lambda *args, **kwargs: calls.append(kwargs) or fused(*args, **kwargs))
    q, k, v = torch.randn(3, 5, 2, 49, 16).unbind(0)
    mask = torch.zeros(5, 2, 49, 49)
    scaled_attention(q, k, v, mask, 0.0, 16 ** -0.5)
    scaled_attention(q, k, v, mask, 0.0, 0.1)
    assert 'scale' not in calls[0]
    assert calls[1].get('scale') == 0.1 or not window_block.SDPA_TAKES_SCALE


def test_sparse_backbone_without_the_scale_argument_is_the_same(tiny_swin_kwargs, monkeypatch):
    backbone = SparseSwinTransformer(**tiny_swin_kwargs, sparsity=[0.5, 0, 0.25, 0]).eval()
    x = torch.randn(2, 3, 128, 128)
    with torch.no_grad():
        expected = backbone(x)
        monkeypatch.setattr(window_block, 'SDPA_TAKES_SCALE', False)
        for out, ref in zip(backbone(x), expected):
            torch.testing.assert_close(out, ref, rtol=1e-5, atol=1e-5)
