"""The latency protocol (docs/method.md, section 6): warm-up, many timed runs, mean of the
middle half, several calls timed round-robin in one run; and a timer of a backbone's
sparsity configurations under that protocol."""
import copy
import math
import statistics
import time
from dataclasses import asdict, dataclass, field
from typing import Callable, Mapping, NamedTuple, Optional

import torch
from torch import Tensor, nn

from ..sparsity import SparsityLike

DTYPES = {'fp32': torch.float32, 'fp16': torch.float16, 'bf16': torch.bfloat16}


def default_device() -> str:
    """The latency device when none is named: ``'cuda'`` where available, else ``'cpu'``."""
    return 'cuda' if torch.cuda.is_available() else 'cpu'


@dataclass(frozen=True)
class LatencyProtocol:
    """How backbone latency is measured: device, input batch and size, dtype, runs.

    ``device`` None is :func:`default_device`, resolved when the protocol is made.
    """
    device: Optional[str] = None
    batch: int = 1
    height: int = 672
    width: int = 672
    dtype: str = 'fp32'
    warmup: int = 2
    runs: int = 10

    def __post_init__(self):
        if self.device is None:
            object.__setattr__(self, 'device', default_device())

    def describe(self) -> str:
        return (f'{self.device}, {self.dtype}, batch {self.batch}, {self.height}x{self.width}, '
                f'mean of the middle half of {self.runs} runs')

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class LatencyResult:
    """Per-call latency statistics in milliseconds, and the timed samples in their order."""
    mean_ms: float  # mean of the middle half: the protocol's statistic
    median_ms: float
    min_ms: float
    runs: int
    samples_ms: tuple[float, ...] = field(default=(), repr=False)

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if k != 'samples_ms'}


def middle_half_mean(samples: list[float]) -> float:
    """Mean after dropping the fastest and the slowest quarter."""
    if not samples:
        raise ValueError('no latency samples')
    ordered = sorted(samples)
    cut = len(ordered) // 4
    kept = ordered[cut:len(ordered) - cut]
    return sum(kept) / len(kept)


def summarize(samples_ms: list[float]) -> LatencyResult:
    """The protocol's statistic and the median and minimum of the samples."""
    ordered = sorted(samples_ms)
    return LatencyResult(middle_half_mean(ordered), ordered[len(ordered) // 2], ordered[0],
                         len(ordered), tuple(samples_ms))


# a drift stands out of the rounds' own noise beyond this many standard errors: a half of a
# run holds few rounds (6 of 12), its spread is itself uncertain, and a run compares 30-45
# calls, so three standard errors are exceeded by noise alone in most runs
NOISE_SIGMAS = 5.0


class RatioDrift(NamedTuple):
    """How far a call's latency ratio to the reference moved between the halves of a run."""
    change: float  # second half's ratio / first half's - 1
    name: str
    noise: float  # NOISE_SIGMAS standard errors of ``change``, from the rounds' own spread


def _relative_error(ratios: list[float]) -> float:
    """Standard error of the mean of ``ratios``, relative to it, from their median absolute
    deviation (a slow outlier round moves it little)."""
    center = statistics.median(ratios)
    spread = 1.4826 * statistics.median(abs(r - center) for r in ratios)
    return spread / center / math.sqrt(len(ratios))


def ratio_drift(results: Mapping[str, LatencyResult], reference: str,
                baseline: Optional[str] = None) -> Optional[RatioDrift]:
    """How far the calls timed round-robin moved against ``reference`` during the run: the
    largest relative change of a latency ratio to it between the first and the second half
    of the rounds that exceeds its noise (the largest change at all where none does); None
    with fewer than 4 rounds or one call. The noise of a change is estimated from the spread
    of the call's per-round ratios to ``reference`` within each half.

    With ``baseline`` (a part of ``reference`` timed on its own, such as the graph of one
    dense stage), every other call is such a part too and stands for ``reference`` with
    ``baseline`` replaced by it: the ratio is that whole's, so a small part's own noise
    counts as much as it moves the whole.

    Round-robin timing cancels a machine that changes speed for all calls alike; this is
    what it cannot cancel (a change that hits some calls more than others).
    """
    ref = results[reference].samples_ms
    if len(ref) < 4:
        return None
    base = None if baseline is None else results[baseline].samples_ms
    half = len(ref) // 2

    def halves(samples) -> tuple[float, float]:
        return middle_half_mean(list(samples[:half])), middle_half_mean(list(samples[half:]))

    ref_halves = halves(ref)
    drifts = []
    for name, result in results.items():
        if name in (reference, baseline) or len(result.samples_ms) < 4:
            continue
        wholes = result.samples_ms if base is None else \
            [r + s - b for r, s, b in zip(ref, result.samples_ms, base)]
        first, second = halves(wholes)
        change = (second / ref_halves[1]) / (first / ref_halves[0]) - 1.0
        per_round = [w / r for w, r in zip(wholes, ref)]
        noise = NOISE_SIGMAS * math.hypot(_relative_error(per_round[:half]),
                                          _relative_error(per_round[half:]))
        drifts.append(RatioDrift(change, name, noise))
    return largest_drift(drifts)


def largest_drift(drifts: list[RatioDrift]) -> Optional[RatioDrift]:
    """The largest change of ``drifts`` that exceeds its noise, else the largest; None for
    none."""
    beyond_noise = [d for d in drifts if abs(d.change) > d.noise]
    return max(beyond_noise or drifts, key=lambda d: abs(d.change), default=None)


def _timed(fn: Callable[[], object], device: torch.device) -> float:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    fn()
    if device.type == 'cuda':
        torch.cuda.synchronize(device)
    return (time.perf_counter() - start) * 1000.0


def measure_interleaved(calls: Mapping[str, Callable[[], object]], device: torch.device,
                        warmup: int = 3, runs: int = 20,
                        progress: Callable[[int, int], None] = lambda i, n: None
                        ) -> dict[str, LatencyResult]:
    """Time several calls round-robin, so that drift of the machine hits all alike.

    Every round runs each call once; ``warmup`` rounds are discarded, then
    ``runs`` rounds are timed. Ratios between the results are measured in
    one run under the same conditions.
    """
    if runs < 1 or warmup < 0:
        raise ValueError(f'need runs >= 1 and warmup >= 0, got runs={runs}, warmup={warmup}')
    samples: dict[str, list[float]] = {name: [] for name in calls}
    total = warmup + runs
    with torch.inference_mode():
        for round_idx in range(total):
            for name, fn in calls.items():
                elapsed = _timed(fn, device)
                if round_idx >= warmup:
                    samples[name].append(elapsed)
            progress(round_idx + 1, total)
    return {name: summarize(values) for name, values in samples.items()}


class BackboneTimer:
    """Times sparsity configurations of a sparse backbone under ``protocol``.

    Works on a copy of ``backbone`` moved to the protocol's device and dtype (the
    model's own backbone is left as it is), fed random images of the protocol's
    batch and size, or of another size per call. Each :meth:`time` times its
    configurations round-robin in one run (:func:`measure_interleaved`).
    """

    def __init__(self, backbone: nn.Module, protocol: LatencyProtocol):
        self.protocol = protocol
        self.dtype = DTYPES[protocol.dtype]
        self.backbone = copy.deepcopy(backbone).to(protocol.device, self.dtype).eval()
        self._images: dict[tuple[int, int], Tensor] = {}

    @property
    def num_stages(self) -> int:
        return len(self.backbone.depths)

    def images(self, shape: Optional[tuple[int, int]] = None) -> Tensor:
        """A random input batch of ``shape`` (height, width; default the protocol's), drawn
        once per shape."""
        p = self.protocol
        shape = tuple(shape or (p.height, p.width))
        if shape not in self._images:
            self._images[shape] = torch.randn(p.batch, self.backbone.in_channels, *shape,
                                              device=p.device, dtype=self.dtype)
        return self._images[shape]

    def call(self, sparsity: SparsityLike,
             shape: Optional[tuple[int, int]] = None) -> Callable[[], object]:
        """One forward of the backbone under ``sparsity`` on the images of ``shape``."""
        images = self.images(shape)

        def run():
            self.backbone.sparsity = sparsity
            return self.backbone(images)
        return run

    def time(self, configs: Mapping[str, SparsityLike],
             shapes: Optional[Mapping[str, tuple[int, int]]] = None,
             warmup: Optional[int] = None, runs: Optional[int] = None,
             progress: Callable[[int, int], None] = lambda i, n: None
             ) -> dict[str, LatencyResult]:
        """Latency of each named configuration, timed round-robin in one run.

        Args:
            configs: name -> sparsity (None: dense).
            shapes: name -> input (height, width) for the configurations timed on
                another size than the protocol's.
            warmup, runs: override the protocol's.
        """
        p, shapes = self.protocol, shapes or {}
        calls = {name: self.call(sparsity, shapes.get(name)) for name, sparsity in configs.items()}
        return measure_interleaved(calls, torch.device(p.device),
                                   p.warmup if warmup is None else warmup,
                                   p.runs if runs is None else runs, progress)
