"""Swin's patch merging with one cache-friendly copy of the tokens instead of three.

mmdet's ``PatchMerging`` gathers each 2x2 patch with ``nn.Unfold`` on a
channels-last map seen as channels-first, then transposes the result for its
norm: the tokens are copied three times (to a contiguous map, by the unfold, and
for the norm), into a channel-major order (channel, then the patch's row and
column). :func:`merge_patches` copies whole token vectors once, into the
patch-major order (row, column, then channel), and applies the module's norm and
reduction with their weights permuted to that order: the same numbers, so
checkpoints load unchanged and the outputs equal the module's up to rounding.
"""
from typing import Optional

import torch.nn.functional as F
from mmdet.models.layers import PatchMerging
from torch import Tensor, nn


def _takes_fast_path(merging: PatchMerging) -> bool:
    """Whether ``merging`` is Swin's: a 2x2 kernel at stride 2, no dilation, padded at the
    bottom and right corner where the map is odd, a LayerNorm or none."""
    sampler, padding = merging.sampler, merging.adap_padding
    return (tuple(sampler.kernel_size) == (2, 2) and tuple(sampler.stride) == (2, 2)
            and tuple(sampler.dilation) == (1, 1) and tuple(sampler.padding) == (0, 0)
            and (padding is None or padding.padding == 'corner')
            and (merging.norm is None or type(merging.norm) is nn.LayerNorm))


def _patch_major(weight: Optional[Tensor], channels: int) -> Optional[Tensor]:
    """``weight`` over the unfold's channel-major features (last dimension ``4 C``, feature
    ``c * 4 + k``) reordered for patch-major features (feature ``k * C + c``)."""
    if weight is None:
        return None
    return weight.unflatten(-1, (channels, 4)).transpose(-1, -2).flatten(-2)


def merge_patches(merging: PatchMerging, x: Tensor,
                  hw_shape: tuple[int, int]) -> tuple[Tensor, tuple[int, int]]:
    """``merging(x, hw_shape)`` for ``(B, H * W, C)`` tokens, with one copy of the tokens
    where ``merging`` is Swin's 2x2 merging (else the module's own forward)."""
    if not _takes_fast_path(merging):
        return merging(x, hw_shape)
    batch, _, channels = x.shape
    height, width = int(hw_shape[0]), int(hw_shape[1])
    grid = x.view(batch, height, width, channels)
    if merging.adap_padding is not None and (height % 2 or width % 2):
        # 'corner' padding to even sizes, at the bottom and right
        grid = F.pad(grid, (0, 0, 0, width % 2, 0, height % 2))
        height, width = height + height % 2, width + width % 2
    out_h, out_w = height // 2, width // 2  # without padding, an odd last row or column is left
    patches = grid[:, :2 * out_h, :2 * out_w].reshape(batch, out_h, 2, out_w, 2, channels)
    # (B, h, w, row, col, C): whole token vectors move
    x = patches.permute(0, 1, 3, 2, 4, 5).reshape(batch, out_h * out_w, 4 * channels)
    norm = merging.norm
    if norm is not None:
        x = F.layer_norm(x, norm.normalized_shape, _patch_major(norm.weight, channels),
                         _patch_major(norm.bias, channels), norm.eps)
    reduction = merging.reduction
    return F.linear(x, _patch_major(reduction.weight, channels), reduction.bias), (out_h, out_w)
