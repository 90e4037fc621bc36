"""Where a configuration's latency goes, part by part, against the dense path's.

:meth:`SparseSwinTransformer.timing_parts` splits a forward into parts. Here they fall in
three kinds: the ``fixed`` parts, which every configuration runs on every token (patch
embedding, stage layouts, output norms and maps, patch merging); the window ``scoring``;
and the ``blocks``. The *proportional* latency of a configuration is its fixed parts plus
every block at the dense block's time in proportion to the windows it keeps, with free
scoring: how fast it would run if pruning cost nothing beyond the work it keeps and a block
cost the same per window on few windows as on all.
"""
import re
from dataclasses import asdict, dataclass
from typing import Callable, Mapping, Sequence

import torch
from torch import Tensor

from ..models.backbones import SparseSwinTransformer
from ..sparsity import BlockRatios
from .latency import middle_half_mean

KINDS = ('fixed', 'scoring', 'blocks')
_BLOCK = re.compile(r'stage\d+ block\d+$')
_SCORING = re.compile(r'stage\d+ scoring$')


def part_kind(part: str) -> str:
    """The kind of a part of :meth:`SparseSwinTransformer.timing_parts`: ``'blocks'`` for
    ``'stage<s> block<i>'``, ``'scoring'`` for ``'stage<s> scoring'``, else ``'fixed'``."""
    if _BLOCK.match(part):
        return 'blocks'
    return 'scoring' if _SCORING.match(part) else 'fixed'


def part_timing_call(backbone: SparseSwinTransformer, images: Tensor, block_ratios: BlockRatios,
                     samples: list) -> Callable[[], object]:
    """A call of ``backbone`` on ``images`` at ``block_ratios`` that appends the seconds of each
    part of its forward (:meth:`SparseSwinTransformer.timing_parts`) to ``samples``."""
    def run() -> object:
        with backbone.timing_parts() as forwards:
            out = backbone.forward_at(images, block_ratios)
        samples.extend(forwards)
        return out
    return run


def mean_parts(forwards: Sequence[Mapping[str, float]]) -> dict[str, float]:
    """Milliseconds of each part: the mean of the middle half over ``forwards`` (dicts of
    seconds per part; a part missing from a forward cost nothing there)."""
    keys = sorted({key for forward in forwards for key in forward})
    return {key: 1000.0 * middle_half_mean([f.get(key, 0.0) for f in forwards])
            for key in keys}


def kept_shares(backbone: SparseSwinTransformer, images: Tensor,
                block_ratios: BlockRatios) -> dict[str, float]:
    """The share of its stage's windows that each block keeps on ``images`` at
    ``block_ratios``, keyed as the parts of :meth:`SparseSwinTransformer.timing_parts`."""
    with torch.inference_mode(), backbone.recording_windows() as forwards:
        backbone.forward_at(images, block_ratios)
    shares = {}
    for stage, records in enumerate(forwards[0]):
        for index, record in enumerate(records):
            kept = record['kept']
            windows = record['rows'] * record['cols']
            shares[f'stage{stage} block{index}'] = (
                1.0 if kept is None else kept.shape[1] / windows)
    return shares


@dataclass
class PartCosts:
    """Milliseconds per forward of each kind of part, and the proportional latency.

    Attributes:
        proportional_blocks_ms: the dense blocks' times, each scaled by the share of
            windows the configuration's block keeps.
    """
    fixed_ms: float
    scoring_ms: float
    blocks_ms: float
    proportional_blocks_ms: float

    @property
    def total_ms(self) -> float:
        return self.fixed_ms + self.scoring_ms + self.blocks_ms

    @property
    def proportional_ms(self) -> float:
        """The fixed parts as measured, the blocks in proportion, the scoring free."""
        return self.fixed_ms + self.proportional_blocks_ms

    def to_dict(self) -> dict:
        return dict(asdict(self), total_ms=self.total_ms, proportional_ms=self.proportional_ms)


def part_costs(parts: Mapping[str, float], dense_parts: Mapping[str, float],
               shares: Mapping[str, float]) -> PartCosts:
    """Sum ``parts`` (ms per part of a configuration) by kind; scale the blocks of
    ``dense_parts`` (the dense configuration's, same input) by ``shares``
    (:func:`kept_shares`)."""
    by_kind = dict.fromkeys(KINDS, 0.0)
    for part, ms in parts.items():
        by_kind[part_kind(part)] += ms
    proportional = sum(ms * shares[part] for part, ms in dense_parts.items()
                       if part_kind(part) == 'blocks')
    return PartCosts(by_kind['fixed'], by_kind['scoring'], by_kind['blocks'], proportional)
