"""Forward of one Swin stage with window activation pruning (docs/method.md, section 2)."""
from typing import Callable, Optional, Sequence

import torch
import torch.utils.checkpoint as cp
from mmdet.models.backbones.swin import SwinBlock
from torch import Tensor

from ...graph_capture import eager_on_cpu, is_exporting
from ...sparsity import kept_windows
from .window_block import relative_position_bias, window_block_forward
from .window_geometry import (CPU_CHUNK_BYTES, WindowGeometry, from_windows, to_windows,
                              window_geometry)


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

    def _token_magnitudes(self, windows: Tensor) -> Tensor:
        windows = windows.detach()  # the ranking is not trained (a decorator would stop compile)
        # rank half precision in fp32 (float64 stays float64)
        dtype = windows.dtype if windows.dtype == torch.float64 else torch.float32
        # the channel mean of |x| (as an L1 norm over the channels it runs 5x slower on a CPU)
        if eager_on_cpu(windows):  # in cache-sized pieces: no stage-sized temporary
            mags = windows.new_empty(windows.shape[:-1], dtype=dtype)
            step = max(1, CPU_CHUNK_BYTES // (windows[0].numel() * windows.element_size()))
            for start in range(0, windows.shape[0], step):
                torch.mean(windows[start:start + step].abs(), dim=-1, dtype=dtype,
                           out=mags[start:start + step])
        else:
            mags = windows.abs().mean(dim=-1, dtype=dtype)
        mags = mags.view(self.batch, self.geo.num_windows, -1)
        if self.geo.padded:
            mags = mags * self.geo.valid  # zero padding
        return mags

    def _rank(self, shifted: bool) -> Tensor:
        mags = self.magnitudes
        if shifted:
            mags = mags.flatten(1)[:, self.geo.shifted_index]
        scores = torch.linalg.vector_norm(mags, ord=2, dim=-1)
        if is_exporting():  # ONNX TopK ranks ties by index, as the stable sort does
            return torch.topk(scores, scores.shape[1], dim=1).indices
        return torch.sort(scores, dim=1, descending=True, stable=True).indices


def _write_windows(flat: Tensor, index: Tensor, values: Tensor) -> Tensor:
    """Write ``values`` to the token rows ``index`` of ``flat``: in place, or as a new
    tensor while exporting."""
    if is_exporting():
        return flat.index_put((index, ), values)
    return flat.index_copy_(0, index, values)


# CPU inference runs a block on this many tokens at a time, so that the activations of a
# chunk of windows stay in cache (it halves the FFN time of the early stages on a 2-core
# CPU). Other devices, ONNX export and torch.compile take all windows of a block at once.
CPU_CHUNK_TOKENS = 2048


def _block(block: SwinBlock, x: Tensor, attn_mask: Tensor, valid: Optional[Tensor]) -> Tensor:
    if block.with_cp and x.requires_grad:
        return cp.checkpoint(window_block_forward, block, x, attn_mask, valid, use_reentrant=False)
    return window_block_forward(block, x, attn_mask, valid)


def _attn_mask(bias: Tensor, geo: WindowGeometry, shifted: bool, ids: Tensor) -> Tensor:
    """Additive mask of windows ``ids``: bias, plus the shift mask for shifted windows."""
    if not shifted:
        return bias
    return geo.shift_mask[ids.reshape(-1)].unsqueeze(1) + bias


def _valid(geo: WindowGeometry, shifted: bool, ids: Tensor) -> Optional[Tensor]:
    if not geo.padded:
        return None
    return (geo.shifted_valid if shifted else geo.valid)[ids]


def apply_block(block: SwinBlock, windows: Tensor, geo: WindowGeometry, batch: int,
                kept: Optional[Tensor]) -> Tensor:
    """Run ``block`` on the windows ``kept`` (``(B, k)``, None for all) of its partition.

    ``windows`` is the stage's regular window layout; the block's results are
    written into it in place and pruned windows are left untouched.
    """
    shifted = block.attn.shift_size > 0
    num_windows, tokens, channels = geo.num_windows, *windows.shape[1:]
    bias = relative_position_bias(block.attn.w_msa)
    if not shifted and kept is None and (torch.is_grad_enabled() or block.training):
        x = windows.view(batch, num_windows, tokens, channels)  # no gather needed
        return _block(block, x, bias, geo.valid).view_as(windows)

    ids = torch.arange(num_windows, device=windows.device).expand(batch, -1) if kept is None \
        else kept
    table = geo.shifted_index if shifted else geo.regular_index
    offsets = torch.arange(batch, device=windows.device).view(-1, 1, 1) * (num_windows * tokens)
    token_index = (table[ids] + offsets).view(-1)
    flat = windows.view(-1, channels)
    if torch.is_grad_enabled() or block.training:
        x = flat.index_select(0, token_index).view(batch, -1, tokens, channels)
        out = _block(block, x, _attn_mask(bias, geo, shifted, ids), _valid(geo, shifted, ids))
        flat.index_copy_(0, token_index, out.view(-1, channels))
        return windows

    ids = ids.reshape(-1)
    # a captured graph takes the block whole: chunks would only repeat it in the graph
    step = max(1, CPU_CHUNK_TOKENS // tokens) if eager_on_cpu(windows) else ids.numel()
    for start in range(0, ids.numel(), step):
        chunk = ids[start:start + step]
        index = token_index[start * tokens:(start + chunk.numel()) * tokens]
        x = flat.index_select(0, index).view(1, -1, tokens, channels)
        out = window_block_forward(block, x, _attn_mask(bias, geo, shifted, chunk),
                                   _valid(geo, shifted, chunk))
        flat = _write_windows(flat, index, out.view(-1, channels))
    return flat.view_as(windows)


def stage_geometry(blocks: Sequence[SwinBlock], hw_shape: tuple[int, int],
                   device: torch.device) -> WindowGeometry:
    """The window geometry of a stage of ``blocks`` on a ``hw_shape`` map."""
    attn = blocks[0].attn
    shifts = [b.attn.shift_size for b in blocks if b.attn.shift_size]
    shift = shifts[0] if shifts else attn.window_size // 2
    # plain ints: while tracing, sizes arrive as tensors (whose // truncates negatives)
    return window_geometry(int(hw_shape[0]), int(hw_shape[1]), attn.window_size, shift, device)


def forward_windows(blocks: Sequence[SwinBlock], ratios: Sequence[float], windows: Tensor,
                    geo: WindowGeometry, batch: int, record: Optional[list] = None,
                    scored: Optional[Tensor] = None,
                    lap: Optional[Callable[[str], None]] = None) -> Tensor:
    """Run the blocks of a stage on its regular window layout (``(B * nW, N, C)``, updated in
    place where possible); returns the layout after the last block.

    ``scored`` (the same layout) replaces ``windows`` as the features the windows are scored
    on when the first block is pruned. With ``record``, appends per block its partition,
    window grid and kept windows (``(B, k)``, None when all were kept), for visualisation.
    With ``lap`` (a :class:`PartClock` lap of the stage), charges the window ranking to
    ``'scoring'`` and each block to ``'block<index>'`` (a block that keeps no window has no
    entry).
    """
    selector = WindowSelector(geo, batch)
    for index, (block, ratio) in enumerate(zip(blocks, ratios)):
        ranked = scored if index == 0 and scored is not None else windows
        kept = selector.kept(ranked, block.attn.shift_size > 0, ratio)
        if lap is not None:
            lap('scoring')
        if record is not None:
            record.append(dict(shifted=block.attn.shift_size > 0, ratio=ratio, rows=geo.rows,
                               cols=geo.cols, kept=None if kept is None else kept.cpu()))
        if kept is not None and kept.shape[1] == 0:
            continue  # every window pruned: the block is the identity
        windows = apply_block(block, windows, geo, batch, kept)
        if lap is not None:
            lap(f'block{index}')
    return windows


def forward_stage(blocks: Sequence[SwinBlock], ratios: Sequence[float], x: Tensor,
                  hw_shape: tuple[int, int], scored: Optional[Tensor] = None) -> Tensor:
    """Run the blocks of a stage on ``(B, H * W, C)`` tokens; returns the dense output tokens.

    ``scored`` (same shape as ``x``) replaces ``x`` as the features the windows are scored
    on when the first block is pruned (see :func:`forward_windows`).
    """
    geo = stage_geometry(blocks, hw_shape, x.device)
    windows = to_windows(x, geo)
    scored_windows = to_windows(scored, geo) if scored is not None and ratios[0] > 0 else None
    windows = forward_windows(blocks, ratios, windows, geo, x.shape[0], scored=scored_windows)
    return from_windows(windows, x.shape[0], geo)
