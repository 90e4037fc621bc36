"""The two alternatives the paper compares a searched configuration with, at its latency:
one uniform ratio for every block, and the dense backbone on a smaller input.

Swin pads each stage to whole windows, so the dense latency of square inputs moves in
steps of one row and one column of windows (28 pixels for a patch-4 window-7 Swin).
Smaller inputs of a slightly different aspect (one side a step shorter than the
other) fill the gaps between those steps.

Two round-robin runs: the first times every candidate beside the dense backbone
and the target and finds the closest of each kind; the second times only the
dense backbone, the target, the closest uniform ratio with two neighbours on each
side and the input shapes within 20% of the target's latency (at least three on
each side), and its figures choose and are reported. Those shapes' figures are
kept: where the padding leaves a gap around the target, they show its edges.
On a small model,
interleaving dozens of calls of different shapes moves the figures (cache and
allocator state), so the coarse run only narrows the choice.

Because of those gaps, the demo searches only where a smaller input can match:
:func:`matched_band` narrows the search band to the latencies that lie within
:data:`BAND_TOLERANCE` of a smaller input's, timed by :func:`dense_input_fractions`.
"""
from dataclasses import asdict, dataclass
from typing import Hashable, Iterable, Mapping, Optional, Sequence, Tuple

from torch import nn

from ..analysis.latency import BackboneTimer, LatencyProtocol
from ..model_sparsity import sparse_backbones

UNIFORM_RATIOS = tuple(round(0.05 * i, 2) for i in range(17))  # 0.0 ... 0.8
MATCH_TOLERANCE = 0.05  # a latency within this fraction of the target's counts as equal
BAND_TOLERANCE = 0.025  # tighter, for the search band: the final timing moves by a percent or two
Shape = Tuple[int, int]  # (height, width)


@dataclass(frozen=True)
class EqualLatency:
    """Latencies (ms) of the dense backbone, the target and its two matches."""
    dense_ms: float
    target_ms: float
    uniform_ratio: float
    uniform_ms: float
    size: Shape  # (height, width) of the smaller dense input
    size_ms: float
    near_sizes_ms: dict  # 'HxW': ms of the shapes timed beside the target in the second run

    def to_dict(self) -> dict:
        """Plain data, as it reads back from JSON."""
        return {**asdict(self), 'size': list(self.size)}

    def slower_size(self, tolerance: float = MATCH_TOLERANCE
                    ) -> Optional[tuple[Shape, float]]:
        """Where the closest shape is faster than the target by more than ``tolerance``: the
        timed shape closest to the target from above and its latency (None otherwise)."""
        if self.size_ms >= (1 - tolerance) * self.target_ms:
            return None
        above = {name: ms for name, ms in self.near_sizes_ms.items() if ms > self.target_ms}
        if not above:
            return None
        name = min(above, key=above.get)
        height, width = map(int, name.split('x'))
        return (height, width), above[name]


def closest(latencies: Mapping[Hashable, float], target_ms: float) -> Hashable:
    """The key whose latency is closest to ``target_ms`` (the first of equals)."""
    return min(latencies, key=lambda key: abs(latencies[key] - target_ms))


def smaller_sizes(height: int, width: int, step: int = 8, lowest: float = 0.5,
                  max_aspect: float = 1.15) -> list[Shape]:
    """Input shapes smaller than ``height x width``, largest first: each side on a grid of
    ``step`` down to ``lowest`` times its full length, at most ``max_aspect`` times wider
    (never taller) than the full input's aspect."""
    heights = range(height, int(lowest * height) - 1, -step)
    widths = range(width, int(lowest * width) - 1, -step)
    shapes = [(h, w) for h in heights for w in widths
              if (h, w) != (height, width) and 1 <= (w * height) / (h * width) <= max_aspect]
    return sorted(shapes, key=lambda shape: (-shape[0] * shape[1], shape))


def _name(shape: Shape) -> str:
    return f'{shape[0]}x{shape[1]}'


def _shapes(sizes: Sequence[Shape], protocol: LatencyProtocol) -> list[Shape]:
    """``sizes`` as tuples, or by default :func:`smaller_sizes` of the protocol's input."""
    return [tuple(shape) for shape in sizes] or smaller_sizes(protocol.height, protocol.width)


def _timer(model: nn.Module, protocol: LatencyProtocol) -> BackboneTimer:
    """A timer of a copy of ``model``'s sparse backbone under ``protocol``."""
    return BackboneTimer(sparse_backbones(model)[0], protocol)


def _mean_ms(timer: BackboneTimer, configs: dict, shapes: dict) -> dict[str, float]:
    """Mean ms by name of ``configs`` (name -> sparsity) at ``shapes`` (name -> input shape,
    the protocol's where absent), timed round-robin."""
    return {name: r.mean_ms for name, r in timer.time(configs, shapes).items()}


def dense_input_fractions(model: nn.Module, protocol: LatencyProtocol,
                          sizes: Sequence[Shape] = ()) -> dict[Shape, float]:
    """Dense backbone latency of ``model`` at each smaller input shape (by default
    :func:`smaller_sizes`), as a fraction of its latency at the protocol's full size; one
    round-robin run."""
    timer = _timer(model, protocol)
    sizes = _shapes(sizes, protocol)
    dense = [0.0] * timer.num_stages
    shapes = {_name(shape): shape for shape in sizes}
    ms = _mean_ms(timer, {'dense': dense, **{name: dense for name in shapes}}, shapes)
    return {shape: ms[_name(shape)] / ms['dense'] for shape in sizes}


def matched_band(fractions: Iterable[float], within: tuple[float, float],
                 tolerance: float = BAND_TOLERANCE) -> Optional[tuple[float, float]]:
    """The longest interval inside ``within`` where every latency ``t`` has one of
    ``fractions`` (``s``) within ``tolerance`` (``|s / t - 1| <= tolerance``, the report's
    measure); None where no latency in ``within`` has."""
    merged: list[list[float]] = []
    for low, high in sorted((s / (1 + tolerance), s / (1 - tolerance)) for s in fractions):
        if merged and low <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], high)
        else:
            merged.append([low, high])
    clipped = [(max(low, within[0]), min(high, within[1])) for low, high in merged]
    clipped = [(low, high) for low, high in clipped if low < high]
    return max(clipped, key=lambda band: band[1] - band[0]) if clipped else None


def match_latency(model: nn.Module, target, protocol: LatencyProtocol,
                  ratios: Sequence[float] = UNIFORM_RATIOS,
                  sizes: Sequence[Shape] = ()) -> EqualLatency:
    """Time ``model``'s backbone under ``target``, dense, at each uniform ratio and densely
    at each smaller input shape; return the uniform ratio and the shape closest to the
    target's latency. ``protocol`` gives the device, dtype, batch, full size and runs."""
    timer = _timer(model, protocol)
    stages = timer.num_stages
    sizes = _shapes(sizes, protocol)
    dense = [0.0] * stages
    shapes = {_name(shape): shape for shape in sizes}
    configs = {'dense': dense, 'target': target}
    configs.update({f'uniform-{r:g}': [r] * stages for r in ratios})
    configs.update({name: dense for name in shapes})
    coarse = _mean_ms(timer, configs, shapes)
    ratio = closest({r: coarse[f'uniform-{r:g}'] for r in ratios}, coarse['target'])
    near_ratios = _neighbours(ratios, ratio)
    near_sizes = _around(sizes, {shape: coarse[_name(shape)] for shape in sizes}, coarse['target'])
    names = ['dense', 'target'] + [f'uniform-{r:g}' for r in near_ratios] + \
        [_name(shape) for shape in near_sizes]
    ms = _mean_ms(timer, {n: configs[n] for n in names}, shapes)
    ratio = closest({r: ms[f'uniform-{r:g}'] for r in near_ratios}, ms['target'])
    size = closest({shape: ms[_name(shape)] for shape in near_sizes}, ms['target'])
    return EqualLatency(ms['dense'], ms['target'], ratio, ms[f'uniform-{ratio:g}'], size,
                        ms[_name(size)], {_name(shape): ms[_name(shape)] for shape in near_sizes})


def _around(keys: Sequence, latencies: Mapping, target_ms: float, reach: int = 3,
            spread: float = 0.2) -> list:
    """Per side of ``target_ms``, the keys whose latency lies within ``spread`` of it, and at
    least the ``reach`` closest, closest first (those below, then those above)."""
    def gap(key) -> float:
        return abs(latencies[key] - target_ms)

    chosen = []
    for side in ([k for k in keys if latencies[k] <= target_ms],
                 [k for k in keys if latencies[k] > target_ms]):
        side.sort(key=gap)
        chosen += [k for i, k in enumerate(side) if i < reach or gap(k) <= spread * target_ms]
    return chosen


def _neighbours(values: Sequence, value, reach: int = 2) -> list:
    """``value`` and the ``reach`` values on each side of it in ``values``."""
    i = list(values).index(value)
    return list(values)[max(0, i - reach):i + reach + 1]
