"""One Swin block run on a batch of gathered windows.

The functions read the parameters of mmdet's ``SwinBlock`` (``norm1``,
``attn.w_msa``, ``attn.drop``, ``norm2``, ``ffn``), so checkpoints load with
unchanged names, but compute attention with the fused
``scaled_dot_product_attention`` and apply stochastic depth per image (as the
dense block does) even though the windows of an image were gathered.
"""
import math
from typing import Optional

import torch
import torch.nn.functional as F
from mmdet.models.backbones.swin import SwinBlock, WindowMSA
from torch import Tensor, nn

from ...environment import version_tuple

# torch 2.0's scaled_dot_product_attention has no ``scale`` (it always uses 1 / sqrt(dim))
SDPA_TAKES_SCALE = version_tuple(torch.__version__) >= (2, 1)


def relative_position_bias(w_msa: WindowMSA) -> Tensor:
    """``(1, heads, N, N)`` relative position bias of a window attention module.

    Four dimensions: given a three-dimensional mask, torch's CPU attention runs an
    ``all`` and a ``where`` over it on every call (0.6 ms per call at Swin-T's stage 0).
    """
    n = w_msa.window_size[0] * w_msa.window_size[1]
    bias = w_msa.relative_position_bias_table[w_msa.relative_position_index.view(-1)]
    return bias.view(1, n, n, -1).permute(0, 3, 1, 2).contiguous()


def scaled_attention(q: Tensor, k: Tensor, v: Tensor, attn_mask: Tensor, dropout: float,
                     scale: float) -> Tensor:
    """``softmax(q k^T * scale + attn_mask) v``, fused, on any supported torch.

    ``scale`` is passed on only when it is not the fused attention's default
    ``1 / sqrt(dim)`` (Swin's own): the plain call is what exporters' rewrites of
    the operator handle (mmdeploy 1.3 reads ``scale`` as a divisor).
    """
    rescale = scale * math.sqrt(q.shape[-1])
    if math.isclose(rescale, 1.0, rel_tol=1e-6):
        return F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask, dropout_p=dropout)
    if SDPA_TAKES_SCALE:
        return F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask, dropout_p=dropout,
                                              scale=scale)
    return F.scaled_dot_product_attention(q * rescale, k, v, attn_mask=attn_mask,
                                          dropout_p=dropout)


def window_attention(w_msa: WindowMSA, x: Tensor, attn_mask: Tensor) -> Tensor:
    """Multi-head self-attention inside windows.

    Args:
        x: ``(W, N, C)`` normalized tokens of ``W`` windows.
        attn_mask: additive mask broadcastable to ``(W, heads, N, N)``: the
            relative position bias, plus the shift mask for shifted windows.
    """
    windows, tokens, channels = x.shape
    heads = w_msa.num_heads
    qkv = w_msa.qkv(x).view(windows, tokens, 3, heads, channels // heads).permute(2, 0, 3, 1, 4)
    q, k, v = qkv.unbind(0)
    dropout = w_msa.attn_drop.p if w_msa.training else 0.0
    x = scaled_attention(q, k, v, attn_mask.to(q.dtype), dropout, w_msa.scale)
    x = x.transpose(1, 2).reshape(windows, tokens, channels)
    return w_msa.proj_drop(w_msa.proj(x))


def drop_path_per_image(x: Tensor, drop_path: nn.Module) -> Tensor:
    """Stochastic depth of ``(B, K, N, C)`` window tokens, one draw per image."""
    p = getattr(drop_path, 'drop_prob', 0.0)
    if p == 0.0 or not drop_path.training:
        return x
    keep = x.new_empty((x.shape[0], 1, 1, 1)).bernoulli_(1.0 - p)
    return x * keep.div_(1.0 - p)


def window_block_forward(block: SwinBlock, x: Tensor, attn_mask: Tensor,
                         valid: Optional[Tensor]) -> Tensor:
    """Swin block on ``(B, K, N, C)`` tokens of ``K`` windows per image.

    Args:
        attn_mask: broadcastable to ``(B * K, heads, N, N)``.
        valid: broadcastable to ``(B, K, N)``, False for zero-padding tokens
            (they enter attention as zeros after ``norm1``, as in mmdet), or None.

    Returns:
        A new tensor with the block's output for these windows.
    """
    batch, windows, tokens, channels = x.shape
    h = block.norm1(x)
    if valid is not None:
        h = h * valid.unsqueeze(-1).to(h.dtype)
    h = window_attention(block.attn.w_msa, h.view(batch * windows, tokens, channels), attn_mask)
    x = x + drop_path_per_image(h.view(batch, windows, tokens, channels), block.attn.drop)
    ffn = block.ffn
    h = ffn.gamma2(ffn.layers(block.norm2(x)))
    return x + drop_path_per_image(h, ffn.dropout_layer)
