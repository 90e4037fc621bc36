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
from functools import lru_cache
from typing import Optional

import torch
import torch.nn.functional as F
from mmdet.models.layers import PatchMerging
from torch import Tensor, nn

from ...graph_capture import autocast_dtype, eager_on_cpu, is_compiling, is_exporting
from .window_geometry import CPU_CHUNK_BYTES, WindowGeometry, _partition


def takes_fast_path(merging: PatchMerging) -> bool:
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
    if not takes_fast_path(merging):
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
    return _norm_and_reduce(merging, x, channels), (out_h, out_w)


def merged_shape(merging: PatchMerging, hw_shape: tuple[int, int]) -> tuple[int, int]:
    """The token grid that Swin's 2x2 ``merging`` makes of a ``hw_shape`` grid."""
    height, width = int(hw_shape[0]), int(hw_shape[1])
    if merging.adap_padding is not None:  # 'corner' padding to even sizes
        return (height + 1) // 2, (width + 1) // 2
    return height // 2, width // 2


def _merge_index(height: int, width: int, window: int, out_height: int, out_width: int,
                 out_window: int, device: torch.device) -> tuple[Tensor, Optional[Tensor]]:
    """Rows of an ``height x width`` map's regular window layout (one image) that each token
    of the merged map's regular layout (``out_height x out_width`` in ``out_window``
    windows) merges, patch-major: ``(nW' * N' * 4, )``; and ``(nW' * N' * 4, 1)`` zeros at
    the merge's corner padding (ones elsewhere), or None without it.

    Tokens of the merged map's padding merge row 0: their values never reach a real token
    (the blocks mask padding before attention, and the window scores ignore it).
    """
    cols, n = -(-width // window), window * window
    hp, wp = -(-out_height // out_window) * out_window, -(-out_width // out_window) * out_window
    yy = _partition(torch.arange(hp, device=device).view(-1, 1).expand(-1, wp), out_window)
    xx = _partition(torch.arange(wp, device=device).view(1, -1).expand(hp, -1), out_window)
    real = (yy < out_height) & (xx < out_width)  # (nW', N'): not padding of the merged map
    rows, inside = [], []
    for dy, dx in ((0, 0), (0, 1), (1, 0), (1, 1)):  # the 2x2 patch, row-major
        sy, sx = 2 * yy + dy, 2 * xx + dx
        ok = real & (sy < height) & (sx < width)
        pos = ((sy // window) * cols + sx // window) * n + (sy % window) * window + sx % window
        rows.append(torch.where(ok, pos, torch.zeros_like(pos)))
        inside.append(ok | ~real)
    index = torch.stack(rows, dim=-1).view(-1)
    corner_padding = 2 * out_height > height or 2 * out_width > width
    return index, torch.stack(inside, dim=-1).view(-1, 1).float() if corner_padding else None


@lru_cache(maxsize=64)
def _cached_merge_index(*args) -> tuple[Tensor, Optional[Tensor]]:
    """:func:`_merge_index`, cached; normal tensors even when first built in inference mode,
    since a later training forward saves them for backward."""
    with torch.inference_mode(False):
        return _merge_index(*args)


def merge_windows(merging: PatchMerging, windows: Tensor, batch: int, geo: WindowGeometry,
                  out_geo: WindowGeometry) -> Tensor:
    """Swin's 2x2 ``merging`` (:func:`takes_fast_path`) of a stage's output in ``geo``'s
    regular window layout, made directly in ``out_geo``'s regular window layout (a new
    tensor): one gather of whole token vectors, no token map in between; in CPU inference
    piece by piece (:func:`_merge_in_pieces`)."""
    build = _merge_index if is_compiling() else _cached_merge_index
    index, inside = build(geo.height, geo.width, geo.window, out_geo.height, out_geo.width,
                          out_geo.window, windows.device)
    channels = windows.shape[-1]
    flat = windows.view(-1, channels)
    if eager_on_cpu(windows) and not torch.is_grad_enabled() and autocast_dtype('cpu') is None:
        x = _merge_in_pieces(merging, flat, batch, index, inside)
    else:
        if batch > 1:
            per_image = geo.num_windows * geo.window**2
            offsets = torch.arange(batch, device=windows.device).view(-1, 1) * per_image
            index = (index.view(1, -1) + offsets).view(-1)
        x = flat.index_select(0, index).view(batch, -1, channels)
        if inside is not None:
            x = x * inside.to(x.dtype)
        x = _norm_and_reduce(merging, x.view(-1, 4 * channels), channels)
    return x.view(batch * out_geo.num_windows, out_geo.window**2, -1)


def _merge_in_pieces(merging: PatchMerging, flat: Tensor, batch: int, index: Tensor,
                     inside: Optional[Tensor]) -> Tensor:
    """The merged tokens ``(B * T, 2 C)`` of ``flat`` (``(B * L, C)``: the window layout's
    rows) for the per-image ``index`` of :func:`merge_windows`, in cache-sized pieces: each
    piece is gathered, normalized and reduced while it is in cache, and written straight
    into the result (no stage-sized gathered or normalized copy)."""
    channels = flat.shape[1]
    tokens, per_image = index.numel() // 4, flat.shape[0] // batch
    out = flat.new_empty(batch * tokens, merging.reduction.out_features)
    step = max(1, CPU_CHUNK_BYTES // (4 * channels * flat.element_size()))
    for image in range(batch):
        rows = flat[image * per_image:(image + 1) * per_image]
        for start in range(0, tokens, step):
            end = min(start + step, tokens)
            x = rows.index_select(0, index[4 * start:4 * end]).view(-1, 4 * channels)
            if inside is not None:
                x.view(-1, 4, channels).mul_(inside[4 * start:4 * end].view(-1, 4, 1))
            _norm_and_reduce(merging, x, channels,
                             out=out[image * tokens + start:image * tokens + end])
    return out


def _patch_major_weights(merging: PatchMerging, channels: int) -> tuple[Optional[Tensor], ...]:
    """The norm's weight and bias and the reduction's weight of ``merging`` in patch-major
    order. Outside autograd and graph capture they are kept on the module and made again
    only when a parameter changes (a load or an optimizer step moves its version)."""
    norm = merging.norm
    params = (None, None) if norm is None else (norm.weight, norm.bias)
    params += (merging.reduction.weight, )
    if torch.is_grad_enabled() or is_compiling() or is_exporting():
        return tuple(_patch_major(p, channels) for p in params)
    key = tuple(None if p is None else (p.data_ptr(), p._version, p.device) for p in params)
    cached = merging.__dict__.get('_patch_major_cache')
    if cached is None or cached[0] != key:
        cached = key, tuple(_patch_major(p, channels) for p in params)
        merging.__dict__['_patch_major_cache'] = cached
    return cached[1]


def _norm_and_reduce(merging: PatchMerging, x: Tensor, channels: int,
                     out: Optional[Tensor] = None) -> Tensor:
    """The norm and reduction of ``merging`` on patch-major merged features (last dimension
    ``4 C``); with ``out`` (2-D, no autograd), the reduction is written into it."""
    norm_weight, norm_bias, reduction_weight = _patch_major_weights(merging, channels)
    if merging.norm is not None:
        x = F.layer_norm(x, merging.norm.normalized_shape, norm_weight, norm_bias,
                         merging.norm.eps)
    bias = merging.reduction.bias
    if out is None:
        return F.linear(x, reduction_weight, bias)
    if bias is None:
        return torch.mm(x, reduction_weight.t(), out=out)
    return torch.addmm(bias, x, reduction_weight.t(), out=out)
