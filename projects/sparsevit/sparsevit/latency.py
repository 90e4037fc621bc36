"""Latency protocol of METHOD.md section 6: warm-up, many timed runs, mean of the middle half."""
import time
from dataclasses import asdict, dataclass
from typing import Callable, Mapping

import torch


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
