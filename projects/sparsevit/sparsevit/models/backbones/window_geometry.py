"""Index tables of the regular and shifted window partitions of one feature map.

Inside a stage the sparse backbone keeps its features in the *regular window
layout*: a tensor of shape ``(B * nW, N, C)`` whose row ``b * nW + w`` holds the
``N = window ** 2`` tokens of window ``w`` of image ``b`` of the zero-padded map.
Regular (W-MSA) blocks work on that layout directly. Shifted (SW-MSA) blocks
gather their windows from it with a precomputed token index that already
contains the cyclic roll, so no roll or re-partition copies are ever made.
"""
from contextlib import contextmanager
from functools import lru_cache
from typing import Callable, Iterator, NamedTuple, Optional

import torch
import torch.nn.functional as F
from torch import Tensor

from ...graph_capture import eager_on_cpu, is_compiling, is_exporting

MASK_VALUE = -100.0  # additive attention mask between regions of a shifted window (as mmdet)


class WindowGeometry(NamedTuple):
    """Partition tables of an ``height x width`` map padded to window multiples.

    A named tuple of plain values, which every supported torch.compile traces.

    Attributes:
        num_windows: ``rows * cols``.
        padded: whether the map needs padding to window multiples.
        regular_index: ``(nW, N)`` position of every token of every regular window
            in the regular layout of one image, i.e. ``w * N + t``.
        shifted_index: ``(nW, N)`` position, in the regular layout of one image
            (``w * N + t``), of every token of every shifted window.
        shift_mask: ``(nW, N, N)`` additive attention mask of the shifted windows.
        valid: ``(nW, N)`` True for real (not padding) tokens, regular layout;
            None when the map needs no padding.
        shifted_valid: the same for the shifted partition, or None.
    """
    height: int
    width: int
    window: int
    shift: int
    rows: int
    cols: int
    num_windows: int
    padded: bool
    regular_index: Tensor
    shifted_index: Tensor
    shift_mask: Tensor
    valid: Optional[Tensor]
    shifted_valid: Optional[Tensor]


def _partition(spatial: Tensor, window: int) -> Tensor:
    """``(Hp, Wp)`` map -> ``(nW, N)`` table in regular-partition order."""
    rows, cols = spatial.shape[0] // window, spatial.shape[1] // window
    return spatial.view(rows, window, cols, window).transpose(1, 2).reshape(
        rows * cols, window * window)


def _build(height: int, width: int, window: int, shift: int,
           device: torch.device) -> WindowGeometry:
    """The tables, made on ``device``."""
    rows, cols = -(-height // window), -(-width // window)
    hp, wp, n = rows * window, cols * window, window * window
    py = torch.arange(hp, device=device).view(-1, 1)
    px = torch.arange(wp, device=device).view(1, -1)
    regular_pos = ((py // window) * cols + px // window) * n + (py % window) * window + px % window

    # region labels of mmdet's shift mask, in the rolled frame
    region_y = (py >= hp - window).long() + (py >= hp - shift).long()
    region_x = (px >= wp - window).long() + (px >= wp - shift).long()
    region = region_y * 3 + region_x
    valid_map = (py < height) & (px < width)

    def rolled(spatial: Tensor) -> Tensor:  # the cyclic shift of SW-MSA, as torch.roll
        return torch.roll(spatial, shifts=(-shift, -shift), dims=(0, 1))

    regular_index = torch.arange(rows * cols * n, device=device).view(rows * cols, n)
    shifted_index = _partition(rolled(regular_pos), window)
    labels = _partition(region, window)
    different = labels.unsqueeze(2) != labels.unsqueeze(1)
    shift_mask = different.float() * MASK_VALUE
    padded = hp != height or wp != width
    valid = _partition(valid_map, window) if padded else None
    shifted_valid = _partition(rolled(valid_map), window) if padded else None
    return WindowGeometry(height, width, window, shift, rows, cols, rows * cols, padded,
                          regular_index, shifted_index, shift_mask, valid, shifted_valid)


_cached_build = lru_cache(maxsize=64)(_build)
# the collections of :func:`retain_geometries` contexts now open
_retainers: list[dict[int, WindowGeometry]] = []


@contextmanager
def retain_geometries() -> Iterator[dict[int, WindowGeometry]]:
    """Collect every geometry used in the context, keyed by ``id``, so that its tables live as
    long as the collection, past their eviction from the cache. A captured CUDA graph reads
    the tables where they were when it was captured."""
    retained: dict[int, WindowGeometry] = {}
    _retainers.append(retained)
    try:
        yield retained
    finally:
        _retainers.remove(retained)


def window_geometry(height: int, width: int, window: int, shift: int,
                    device: torch.device) -> WindowGeometry:
    """:class:`WindowGeometry` with its tables on ``device``: cached in eager mode; built
    inside the graph (its tables become constants) while torch.compile traces."""
    build = _build if is_compiling() else _cached_build
    geo = build(height, width, window, shift, device)
    for retained in _retainers:
        retained[id(geo)] = geo
    return geo


def _copy_regions(windows: Tensor, grid: Tensor, into_windows: bool) -> None:
    """Copy between a ``(B, r, ws, c, ws, C)`` view of window rows and the ``(B, h, w, C)``
    view of the map they cover (``h <= r * ws``, ``w <= c * ws``; the rest is padding), in
    one pass: whole windows, then the partial windows of the last column and row."""
    ws, height, width = windows.shape[2], grid.shape[1], grid.shape[2]
    rows, cols = height // ws, width // ws
    row_parts = [(slice(0, rows), slice(None), slice(0, rows * ws))]
    if height > rows * ws:  # a last row of windows only partly on the map
        row_parts.append((rows, slice(0, height - rows * ws), slice(rows * ws, height)))
    col_parts = [(slice(0, cols), slice(None), slice(0, cols * ws))]
    if width > cols * ws:
        col_parts.append((cols, slice(0, width - cols * ws), slice(cols * ws, width)))
    for row, inner_row, y in row_parts:
        for col, inner_col, x in col_parts:
            part = windows[:, row, inner_row, col, inner_col]
            if part.numel():
                pixels = grid[:, y, x].reshape(part.shape)  # a view: dimensions only split
                if into_windows:
                    part.copy_(pixels)
                else:
                    pixels.copy_(part)


def to_windows(x: Tensor, geo: WindowGeometry) -> Tensor:
    """``(B, H * W, C)`` tokens -> a new ``(B * nW, N, C)`` regular window layout."""
    batch, _, channels = x.shape
    ws = geo.window
    x = x.view(batch, geo.height, geo.width, channels)
    if geo.padded and not (is_exporting() or is_compiling()):  # zeros and one copy, no pad
        windows = x.new_zeros(batch, geo.rows, geo.cols, ws, ws, channels)
        _copy_regions(windows.transpose(2, 3), x, into_windows=True)
        return windows.view(batch * geo.num_windows, ws * ws, channels)
    if geo.padded:
        x = F.pad(x, (0, 0, 0, geo.cols * ws - geo.width, 0, geo.rows * ws - geo.height))
    x = x.view(batch, geo.rows, ws, geo.cols, ws, channels).transpose(2, 3)
    windows = x.clone(memory_format=torch.contiguous_format)  # fresh: blocks update it in place
    return windows.view(batch * geo.num_windows, ws * ws, channels)


def from_windows(windows: Tensor, batch: int, geo: WindowGeometry) -> Tensor:
    """Regular window layout -> ``(B, H * W, C)`` tokens without the padding."""
    ws, channels = geo.window, windows.shape[-1]
    x = windows.view(batch, geo.rows, geo.cols, ws, ws, channels).transpose(2, 3)
    x = x.reshape(batch, geo.rows * ws, geo.cols * ws, channels)
    if geo.padded:
        x = x[:, :geo.height, :geo.width]
    return x.reshape(batch, geo.height * geo.width, channels)


# CPU inference moves windows to the channels-first output map in pieces of about this many
# bytes: a transposing copy of a whole early stage runs three times slower on a 2-core CPU
CPU_CHUNK_BYTES = 2 * 2**20


def map_from_windows(windows: Tensor, batch: int, geo: WindowGeometry,
                     norm: Optional[Callable[[Tensor], Tensor]] = None) -> Tensor:
    """Regular window layout -> a new contiguous ``(B, C, H, W)`` map without the padding.

    ``norm`` (a module over the channels), if given, is applied on the way: in CPU
    inference piece by piece, so that no normalized copy of the whole layout is made.
    """
    ws, channels = geo.window, windows.shape[-1]
    if not eager_on_cpu(windows) or torch.is_grad_enabled():
        if norm is not None:
            windows = norm(windows)
        if is_exporting():  # ONNX Runtime transposes channels-last tokens far faster than 6-D
            tokens = from_windows(windows, batch, geo).transpose(1, 2)
            return tokens.reshape(batch, channels, geo.height, geo.width).contiguous()
        x = windows.view(batch, geo.rows, geo.cols, ws, ws, channels).permute(0, 5, 1, 3, 2, 4)
        x = x.reshape(batch, channels, geo.rows * ws, geo.cols * ws)
        return x[:, :, :geo.height, :geo.width].contiguous() if geo.padded else x
    out = windows.new_empty(batch, channels, geo.height, geo.width)
    pixels = out.permute(0, 2, 3, 1)  # channels-last view
    layout = windows.view(batch, geo.rows, geo.cols, ws, ws, channels)
    step = max(1, CPU_CHUNK_BYTES // (layout[0, 0].numel() * windows.element_size()))
    for image in range(batch):  # pieces of one image's window rows: contiguous
        for row in range(0, geo.rows, step):
            piece = layout[image:image + 1, row:row + step]
            if norm is not None:
                piece = norm(piece)
            grid = pixels[image:image + 1, row * ws:(row + step) * ws]
            _copy_regions(piece.transpose(2, 3), grid, into_windows=False)
    return out
