"""The latency protocol (docs/method.md, section 6): warm-up, many timed runs, mean of the
middle half, several calls timed round-robin in one run."""
import time
from dataclasses import asdict, dataclass
from typing import Callable, Mapping

import torch

DTYPES = {'fp32': torch.float32, 'fp16': torch.float16, 'bf16': torch.bfloat16}


@dataclass(frozen=True)
class LatencyProtocol:
    """How backbone latency is measured: device, input batch and size, dtype, runs."""
    device: str = 'cuda' if torch.cuda.is_available() else 'cpu'
    batch: int = 1
    height: int = 672
    width: int = 672
    dtype: str = 'fp32'
    warmup: int = 2
    runs: int = 10

    def describe(self) -> str:
        return (f'{self.device}, {self.dtype}, batch {self.batch}, {self.height}x{self.width}, '
                f'mean of the middle half of {self.runs} runs')

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class LatencyResult:
    """Per-call latency statistics in milliseconds."""
    mean_ms: float  # mean of the middle half: the protocol's statistic
    median_ms: float
    min_ms: float
    runs: int

    def to_dict(self) -> dict:
        return asdict(self)


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
                         len(ordered))


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
