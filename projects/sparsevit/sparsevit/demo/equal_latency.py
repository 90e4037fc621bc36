"""The two alternatives the paper compares a searched configuration with, at its latency:
one uniform ratio for every block, and the dense backbone on a smaller input.

All candidates are timed round-robin in one run beside the dense backbone and the
target configuration; the candidate closest to the target's latency is chosen.
The four that are reported (dense, target, the chosen ratio and size) are then
timed again round-robin on their own: interleaving dozens of calls of different
shapes changes the figures of a small model (cache and allocator state).
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
    results = measure_interleaved(calls, torch.device(p.device), p.warmup, p.runs)
    ms = {name: r.mean_ms for name, r in results.items()}
    uniform = {r: ms[f'uniform-{r:g}'] for r in ratios}
    smaller = {s: ms[f'{s}x{s}'] for s in sizes}
    ratio, size = closest(uniform, ms['target']), closest(smaller, ms['target'])
    chosen = ('dense', 'target', f'uniform-{ratio:g}', f'{size}x{size}')
    results = measure_interleaved({name: calls[name] for name in chosen},
                                  torch.device(p.device), p.warmup, p.runs)
    dense_ms, target_ms, uniform_ms, size_ms = (results[name].mean_ms for name in chosen)
    return EqualLatency(dense_ms, target_ms, ratio, uniform_ms, size, size_ms)
