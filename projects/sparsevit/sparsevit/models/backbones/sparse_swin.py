"""The sparse Swin Transformer backbone (window activation pruning)."""
from contextlib import contextmanager
from typing import Iterator, Optional

import torch
from mmdet.models.backbones.swin import SwinTransformer
from mmengine.logging import MMLogger
from mmengine.registry import MODELS
from torch import Tensor, nn

from ...graph_capture import eager_on_cpu
from ...sparsity import (BlockRatios, SparsityLike, StageSparsity, compact_sparsity,
                         normalize_sparsity)
from .part_clock import PartClock
from .patch_merging import merge_windows, merged_shape, takes_fast_path
from .sparse_stage import forward_windows, stage_geometry
from .swin_pretrained import load_swin_pretrained
from .window_geometry import WindowGeometry, from_windows, map_from_windows, to_windows


# Registered in mmengine's root registry, so mmdet, mmseg and mmdet3d scopes all find it.
@MODELS.register_module()
class SparseSwinTransformer(SwinTransformer):
    """Swin Transformer that prunes whole attention windows (SparseViT).

    The module tree and parameter names are those of mmdet's
    ``SwinTransformer``, so mmdet/mmseg Swin checkpoints load unchanged (and
    ``convert_weights=True`` loads the original Swin release). With every
    ratio at 0 the outputs equal mmdet's ``SwinTransformer``.

    Args:
        sparsity: one entry per stage, each a ratio for all blocks of the
            stage or a list with one ratio per block, e.g.
            ``[0.6, 0, [0.2, 0.2, 0.4, 0.4, 0.5, 0.5], 0]``; or a mapping of
            gene names (``'stage2.pair1'``) to ratios. None means dense. It
            can be changed later through the ``sparsity`` attribute or
            :func:`sparsevit.set_sparsity`.
        score_before_patch_norm: rank the windows of stage 0 on the patch
            embedding before its LayerNorm. False (the paper's rule) ranks
            the features entering the first pruned block, which in stage 0
            are normalised: every token has about the same size, and the
            ranking may ignore the image content (docs/method.md). A
            departure from the paper: train and test with the same setting.
            It changes which stage-0 windows are kept, not how many.
        **kwargs: every argument of mmdet's ``SwinTransformer``.
    """

    def __init__(self, *args, sparsity: SparsityLike = None,
                 score_before_patch_norm: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.score_before_patch_norm = score_before_patch_norm
        self.in_channels = self.patch_embed.projection.in_channels
        self.depths = tuple(len(stage.blocks) for stage in self.stages)
        self.sparsity = sparsity
        self._window_records: Optional[list] = None  # a list only inside recording_windows()
        self._part_times: Optional[list] = None  # a list only inside timing_parts()

    @property
    def sparsity(self) -> list[StageSparsity]:
        """The active configuration in its shortest plain-data form."""
        return compact_sparsity(self._block_ratios)

    @sparsity.setter
    def sparsity(self, sparsity: SparsityLike) -> None:
        self._block_ratios = normalize_sparsity(sparsity, self.depths)

    @property
    def block_ratios(self) -> BlockRatios:
        """The active configuration as one ratio per block, per stage."""
        return self._block_ratios

    @contextmanager
    def recording_windows(self) -> Iterator[list]:
        """Record the windows each block keeps, in every forward inside the ``with`` block::

            with backbone.recording_windows() as forwards:
                backbone(images)
            stages = forwards[0]

        Yields a list to which each forward appends its records: per stage, per block, a
        dict of ``shifted``, ``ratio``, the window grid ``rows`` x ``cols`` and ``kept``
        (``(B, k)`` window indices on the CPU, None when the block kept every window).
        Outside the block the forward records nothing.
        """
        with self._collecting('_window_records') as forwards:
            yield forwards

    @contextmanager
    def timing_parts(self) -> Iterator[list]:
        """Time the parts of every forward inside the ``with`` block, in place::

            with backbone.timing_parts() as forwards:
                backbone(images)
            seconds = forwards[0]['stage2 block3']

        Yields a list to which each forward appends a dict of seconds per part:
        ``embed``; per stage ``stage<s> layout`` (the window partition of the patch tokens,
        in stage 0; nearly nothing in the others), ``stage<s> scoring`` (window ranking),
        ``stage<s> block<i>`` (a block on its kept windows, gathering and writing back
        included; none for a block that keeps no window) and ``stage<s> output`` (output
        norm and map, and the patch merging into the next stage's layout). The parts add up
        to the forward's time. On CUDA every part waits for the device, which removes the
        overlap of host and device that an untimed forward has.
        """
        with self._collecting('_part_times') as forwards:
            yield forwards

    @contextmanager
    def _collecting(self, attribute: str) -> Iterator[list]:
        """Set ``attribute`` to a new list, which forwards append to, for the ``with`` block."""
        outer = getattr(self, attribute)
        setattr(self, attribute, [])
        try:
            yield getattr(self, attribute)
        finally:
            setattr(self, attribute, outer)

    def train(self, mode: bool = True) -> 'SparseSwinTransformer':
        """Set training mode, keeping frozen stages in eval mode; returns ``self``."""
        super().train(mode)  # mmdet's version freezes stages but returns None
        return self

    def init_weights(self) -> None:
        """Random init, or load ``init_cfg.checkpoint`` reporting keys that do not fit."""
        if self.init_cfg is None:
            super().init_weights()
            return
        checkpoint: Optional[str] = self.init_cfg.get('checkpoint')
        if self.init_cfg.get('type') != 'Pretrained' or checkpoint is None:
            raise ValueError(f'{type(self).__name__} supports only init_cfg=dict('
                             f"type='Pretrained', checkpoint=...), got {self.init_cfg}")
        load_swin_pretrained(self, checkpoint, convert_weights=self.convert_weights,
                             logger=MMLogger.get_current_instance())

    def _embed(self, x: Tensor) -> tuple[Tensor, tuple[int, int], Optional[Tensor]]:
        """Patch tokens, their grid, and the tokens stage 0 scores (None: the patch tokens).

        The steps of mmdet's ``PatchEmbed``; in CPU eager mode on channels-last images, for
        which the convolution runs several times faster and leaves its tokens in order.
        """
        embed = self.patch_embed
        if embed.adap_padding:
            x = embed.adap_padding(x)
        if eager_on_cpu(x):
            x = x.contiguous(memory_format=torch.channels_last)
        x = embed.projection(x)
        hw_shape = (x.shape[2], x.shape[3])
        x = x.flatten(2).transpose(1, 2)
        if embed.norm is None:
            return x, hw_shape, None
        if not self.score_before_patch_norm:
            return embed.norm(x), hw_shape, None
        raw = x.contiguous()
        return embed.norm(raw), hw_shape, raw

    def forward(self, x: Tensor) -> list[Tensor]:
        return self.forward_at(x, self._block_ratios)

    def forward_at(self, x: Tensor, block_ratios: BlockRatios) -> list[Tensor]:
        """The forward at the configuration ``block_ratios`` (one ratio per block, per stage,
        as :attr:`block_ratios`), given as an argument so that torch.compile guards on it."""
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f'{type(self).__name__} expects images of shape (B, '
                             f'{self.in_channels}, H, W), got {tuple(x.shape)}')
        clock = None if self._part_times is None else PartClock(x.device)
        x, hw_shape, stage0_scored = self._embed(x)
        if self.use_abs_pos_embed:
            x = x + self.absolute_pos_embed
        x = self.drop_after_pos(x)
        if clock is not None:
            clock.lap('embed')

        batch = x.shape[0]
        geo = stage_geometry(self.stages[0].blocks, hw_shape, x.device)
        windows = to_windows(x, geo)
        outs, records = [], None if self._window_records is None else []
        for i, (stage, ratios) in enumerate(zip(self.stages, block_ratios)):
            lap = None if clock is None else (lambda part, i=i: clock.lap(f'stage{i} {part}'))
            if lap is not None:
                lap('layout')
            scored = None
            if i == 0 and stage0_scored is not None and ratios[0] > 0:
                scored = to_windows(stage0_scored, geo)
            record = None if records is None else []
            windows = forward_windows(stage.blocks, ratios, windows, geo, batch, record, scored,
                                      lap)
            if records is not None:
                records.append(record)
            if i in self.out_indices:
                outs.append(map_from_windows(windows, batch, geo, getattr(self, f'norm{i}')))
            if stage.downsample is not None:
                windows, geo = self._merge(stage.downsample, self.stages[i + 1].blocks,
                                           windows, batch, geo)
            if clock is not None:
                clock.lap(f'stage{i} output')
        if records is not None:
            self._window_records.append(records)
        if clock is not None:
            self._part_times.append(dict(clock.parts))
        return outs

    @staticmethod
    def _merge(merging: nn.Module, next_blocks: nn.ModuleList, windows: Tensor, batch: int,
               geo: WindowGeometry) -> tuple[Tensor, WindowGeometry]:
        """The next stage's regular window layout and geometry, from this stage's output in
        its window layout: one gather for Swin's merging, else through the token map."""
        if takes_fast_path(merging):
            out_geo = stage_geometry(next_blocks, merged_shape(merging, (geo.height, geo.width)),
                                     windows.device)
            return merge_windows(merging, windows, batch, geo, out_geo), out_geo
        x, hw_shape = merging(from_windows(windows, batch, geo), (geo.height, geo.width))
        out_geo = stage_geometry(next_blocks, hw_shape, x.device)
        return to_windows(x, out_geo), out_geo
