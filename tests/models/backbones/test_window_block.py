"""Window attention is ``softmax(q k^T * scale + mask) v`` with and without torch 2.1's ``scale``.

Swin's default scale ``1 / sqrt(head_dim)`` takes the plain fused call whatever the torch
version; only a ``qk_scale`` of its own reaches the two branches that differ by version.
"""
import pytest
import torch

from sparsevit import SparseSwinTransformer
from sparsevit.models.backbones import window_block
from sparsevit.models.backbones.window_block import scaled_attention

HEAD_DIM = 16


def attention_by_hand(q, k, v, mask, scale):
    """The definition, unfused."""
    return torch.softmax(q @ k.transpose(-2, -1) * scale + mask, dim=-1) @ v


@pytest.mark.parametrize('takes_scale', [True, False], ids=['torch>=2.1', 'torch2.0'])
@pytest.mark.parametrize('scale', [HEAD_DIM ** -0.5, 0.1, 0.4],
                         ids=['swin-default', 'qk_scale-0.1', 'qk_scale-0.4'])
def test_attention_is_the_definition_on_either_torch(scale, takes_scale, monkeypatch):
    if takes_scale and not window_block.SDPA_TAKES_SCALE:
        pytest.skip('this torch has no scale argument')
    monkeypatch.setattr(window_block, 'SDPA_TAKES_SCALE', takes_scale)
    q, k, v = torch.randn(3, 5, 2, 49, HEAD_DIM).unbind(0)
    mask = torch.randn(5, 2, 49, 49)
    torch.testing.assert_close(scaled_attention(q, k, v, mask, 0.0, scale),
                               attention_by_hand(q, k, v, mask, scale), rtol=1e-5, atol=1e-5)


def test_default_scale_is_not_passed(monkeypatch):
    """Swin's scale is the fused attention's default: the call leaves ``scale`` out."""
    calls = []
    fused = torch.nn.functional.scaled_dot_product_attention
    monkeypatch.setattr(torch.nn.functional, 'scaled_dot_product_attention',
                        lambda *args, **kwargs: calls.append(kwargs) or fused(*args, **kwargs))
    q, k, v = torch.randn(3, 5, 2, 49, HEAD_DIM).unbind(0)
    mask = torch.zeros(5, 2, 49, 49)
    scaled_attention(q, k, v, mask, 0.0, HEAD_DIM ** -0.5)
    scaled_attention(q, k, v, mask, 0.0, 0.1)
    monkeypatch.setattr(window_block, 'SDPA_TAKES_SCALE', False)
    scaled_attention(q, k, v, mask, 0.0, 0.1)
    assert 'scale' not in calls[0]
    assert calls[1].get('scale') == 0.1 or not window_block.SDPA_TAKES_SCALE
    assert 'scale' not in calls[2]  # torch 2.0: the scale is folded into q


def test_sparse_backbone_with_a_qk_scale_is_the_same_without_the_scale_argument(
        tiny_swin_kwargs, monkeypatch):
    # qk_scale is not Swin's default 1 / sqrt(head_dim), so the version-dependent branch runs
    backbone = SparseSwinTransformer(**tiny_swin_kwargs, qk_scale=0.05,
                                     sparsity=[0.5, 0, 0.25, 0]).eval()
    assert all(block.attn.w_msa.scale == 0.05 for stage in backbone.stages
               for block in stage.blocks)
    x = torch.randn(2, 3, 128, 128)
    with torch.no_grad():
        expected = backbone(x)
        monkeypatch.setattr(window_block, 'SDPA_TAKES_SCALE', False)
        for out, ref in zip(backbone(x), expected):
            torch.testing.assert_close(out, ref, rtol=1e-5, atol=1e-5)
