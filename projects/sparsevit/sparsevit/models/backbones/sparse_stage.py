"""Forward of one Swin stage with window activation pruning (METHOD.md section 2)."""
from typing import Optional, Sequence

import torch
import torch.utils.checkpoint as cp
from mmdet.models.backbones.swin import SwinBlock
from torch import Tensor

from ...sparsity import kept_windows
from .window_block import relative_position_bias, window_block_forward
from .window_geometry import WindowGeometry, from_windows, to_windows, window_geometry


class WindowSelector:
    """Scores the windows of a stage once and hands out nested top-k lists.

    The token magnitude (channel mean of ``|x|``) is taken from the features
    entering the first block with a ratio > 0 and shared by the later blocks
    of the stage. Regular and shifted partitions rank their windows by the L2
    norm of those magnitudes separately; a block keeping ``k`` windows keeps
    the first ``k`` of its partition's ranking, so deeper blocks keep subsets.
    """

    def __init__(self, geo: WindowGeometry, batch: int):
        self.geo = geo
        self.batch = batch
        self.magnitudes: Optional[Tensor] = None  # (B, nW, N)
        self.rankings: dict[bool, Tensor] = {}

    def kept(self, windows: Tensor, shifted: bool, ratio: float) -> Optional[Tensor]:
        """``(B, k)`` ascending indices of the kept windows, or None for all."""
        if ratio == 0:
            return None
        if self.magnitudes is None:
            self.magnitudes = self._token_magnitudes(windows)
        k = kept_windows(self.geo.num_windows, ratio)
        if k >= self.geo.num_windows:
            return None
        if shifted not in self.rankings:
            self.rankings[shifted] = self._rank(shifted)
        return self.rankings[shifted][:, :k].sort(dim=1).values

    @torch.no_grad()
    def _token_magnitudes(self, windows: Tensor) -> Tensor:
        channels = windows.shape[-1]
        dtype = torch.promote_types(windows.dtype, torch.float32)  # rank half precision in fp32
        mags = torch.linalg.vector_norm(windows, ord=1, dim=-1, dtype=dtype) / channels
        mags = mags.view(self.batch, self.geo.num_windows, -1)
        if self.geo.padded:
            mags = mags * self.geo.valid  # zero padding
        return mags

    @torch.no_grad()
    def _rank(self, shifted: bool) -> Tensor:
        mags = self.magnitudes
        if shifted:
            mags = mags.flatten(1)[:, self.geo.shifted_index]
        scores = torch.linalg.vector_norm(mags, ord=2, dim=-1)
        return torch.sort(scores, dim=1, descending=True, stable=True).indices


def _block(block: SwinBlock, x: Tensor, attn_mask: Tensor, valid: Optional[Tensor]) -> Tensor:
    if block.with_cp and x.requires_grad:
        return cp.checkpoint(window_block_forward, block, x, attn_mask, valid, use_reentrant=False)
    return window_block_forward(block, x, attn_mask, valid)


def _regular_block(block: SwinBlock, windows: Tensor, geo: WindowGeometry, batch: int,
                   kept: Optional[Tensor]) -> Tensor:
    num_windows, tokens, channels = geo.num_windows, *windows.shape[1:]
    bias = relative_position_bias(block.attn.w_msa)
    if kept is None:
        x = windows.view(batch, num_windows, tokens, channels)
        return _block(block, x, bias, geo.valid).view_as(windows)
    rows = (kept + torch.arange(batch, device=kept.device).unsqueeze(1) * num_windows).view(-1)
    x = windows.index_select(0, rows).view(batch, -1, tokens, channels)
    valid = geo.valid[kept] if geo.padded else None
    out = _block(block, x, bias, valid)
    return windows.index_copy_(0, rows, out.view(-1, tokens, channels))


def _shifted_block(block: SwinBlock, windows: Tensor, geo: WindowGeometry, batch: int,
                   kept: Optional[Tensor]) -> Tensor:
    num_windows, tokens, channels = geo.num_windows, *windows.shape[1:]
    bias = relative_position_bias(block.attn.w_msa)
    if kept is None:
        index, shift_mask, valid = geo.shifted_index, geo.shift_mask, geo.shifted_valid
    else:
        index, shift_mask = geo.shifted_index[kept], geo.shift_mask[kept]
        valid = geo.shifted_valid[kept] if geo.padded else None
    offsets = torch.arange(batch, device=index.device).view(-1, 1, 1) * (num_windows * tokens)
    flat = (index + offsets).view(-1)
    tokens_2d = windows.view(-1, channels)
    x = tokens_2d.index_select(0, flat).view(batch, -1, tokens, channels)
    attn_mask = (shift_mask.unsqueeze(-3) + bias).expand(batch, x.shape[1], *bias.shape)
    out = _block(block, x, attn_mask.reshape(-1, *bias.shape), valid)
    tokens_2d.index_copy_(0, flat, out.view(-1, channels))
    return windows


def forward_stage(blocks: Sequence[SwinBlock], ratios: Sequence[float], x: Tensor,
                  hw_shape: tuple[int, int]) -> Tensor:
    """Run the blocks of a stage on ``(B, H * W, C)`` tokens; returns the dense output."""
    batch = x.shape[0]
    attn = blocks[0].attn
    shift = next((b.attn.shift_size for b in blocks if b.attn.shift_size), attn.window_size // 2)
    geo = window_geometry(*hw_shape, attn.window_size, shift, x.device)
    windows = to_windows(x, geo)
    selector = WindowSelector(geo, batch)
    for block, ratio in zip(blocks, ratios):
        shifted = block.attn.shift_size > 0
        kept = selector.kept(windows, shifted, ratio)
        if kept is not None and kept.shape[1] == 0:
            continue  # every window pruned: the block is the identity
        run = _shifted_block if shifted else _regular_block
        windows = run(block, windows, geo, batch, kept)
    return from_windows(windows, batch, geo)
