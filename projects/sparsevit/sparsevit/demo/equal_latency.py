"""The two alternatives the paper compares a searched configuration with, at its latency:
one uniform ratio for every block, and the dense backbone on a smaller input.

Two round-robin runs: the first times every candidate beside the dense backbone
and the target and finds the closest of each kind; the second times only the
dense backbone, the target and the closest candidate of each kind with two
neighbours on each side, and its figures choose and are reported. On a small model,
interleaving dozens of calls of different shapes moves the figures (cache and
allocator state), so the coarse run only narrows the choice.
"""
import copy
from dataclasses import asdict, dataclass
from typing import Hashable, Mapping, Sequence

import torch
from torch import nn

from ..analysis.latency import DTYPES, LatencyProtocol, measure_interleaved
from ..model_sparsity import sparse_backbones

UNIFORM_RATIOS = tuple(round(0.05 * i, 2) for i in range(17))  # 0.0 ... 0.8


@dataclass(frozen=True)
class EqualLatency:
    """Latencies (ms) of the dense backbone, the target and its two matches."""
    dense_ms: float
    target_ms: float
    uniform_ratio: float
    uniform_ms: float
    size: int
    size_ms: float

    def to_dict(self) -> dict:
        return asdict(self)


def closest(latencies: Mapping[Hashable, float], target_ms: float) -> Hashable:
    """The key whose latency is closest to ``target_ms`` (the first of equals)."""
    return min(latencies, key=lambda key: abs(latencies[key] - target_ms))


def smaller_sizes(size: int, step: int = 8, lowest: float = 0.5) -> list[int]:
    """Square input sizes below ``size`` in steps of ``step``, down to ``lowest * size``."""
    return list(range(size - step, int(lowest * size) - 1, -step))


def match_latency(model: nn.Module, target, protocol: LatencyProtocol,
                  ratios: Sequence[float] = UNIFORM_RATIOS,
                  sizes: Sequence[int] = ()) -> EqualLatency:
    """Time ``model``'s backbone under ``target``, dense, at each uniform ratio and densely
    at each smaller square size; return the uniform ratio and the size closest to the
    target's latency. ``protocol`` gives the device, dtype, batch, full size and runs."""
    p = protocol
    backbone = copy.deepcopy(sparse_backbones(model)[0]).to(p.device, DTYPES[p.dtype]).eval()
    sizes = list(sizes) or smaller_sizes(p.height)

    def call(sparsity, size=None):
        images = torch.randn(p.batch, backbone.in_channels, size or p.height, size or p.width,
                             device=p.device, dtype=DTYPES[p.dtype])

        def run():
            backbone.sparsity = sparsity
            return backbone(images)
        return run

    dense = [0.0] * len(backbone.depths)
    calls = {'dense': call(dense), 'target': call(target)}
    calls.update({f'uniform-{r:g}': call([r] * len(dense)) for r in ratios})
    calls.update({f'{s}x{s}': call(dense, s) for s in sizes})
    device = torch.device(p.device)
    coarse = {name: r.mean_ms for name, r in
              measure_interleaved(calls, device, p.warmup, p.runs).items()}
    ratio = closest({r: coarse[f'uniform-{r:g}'] for r in ratios}, coarse['target'])
    size = closest({s: coarse[f'{s}x{s}'] for s in sizes}, coarse['target'])
    near_ratios, near_sizes = _neighbours(ratios, ratio), _neighbours(sizes, size)
    names = ['dense', 'target'] + [f'uniform-{r:g}' for r in near_ratios] + \
        [f'{s}x{s}' for s in near_sizes]
    ms = {name: r.mean_ms for name, r in
          measure_interleaved({n: calls[n] for n in names}, device, p.warmup, p.runs).items()}
    ratio = closest({r: ms[f'uniform-{r:g}'] for r in near_ratios}, ms['target'])
    size = closest({s: ms[f'{s}x{s}'] for s in near_sizes}, ms['target'])
    return EqualLatency(ms['dense'], ms['target'], ratio, ms[f'uniform-{ratio:g}'], size,
                        ms[f'{size}x{size}'])


def _neighbours(values: Sequence, value, reach: int = 2) -> list:
    """``value`` and the ``reach`` values on each side of it in ``values``."""
    i = list(values).index(value)
    return list(values)[max(0, i - reach):i + reach + 1]
