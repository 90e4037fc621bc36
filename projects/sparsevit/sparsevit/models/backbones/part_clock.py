"""Wall-clock time of the parts of one backbone forward, measured in place."""
import time
from collections import defaultdict

import torch


class PartClock:
    """Splits the time of a forward into laps charged to named parts.

    Each :meth:`lap` charges the time since the previous lap (or since the
    clock was made) to one part, so the parts of a forward add up to its whole
    time. On CUDA every lap waits for the device first: the figures are for
    measuring, not for a forward that should overlap host and device.
    """

    def __init__(self, device: torch.device):
        self.device = device
        self.parts: dict[str, float] = defaultdict(float)
        self._last = self._now()

    def _now(self) -> float:
        if self.device.type == 'cuda':
            torch.cuda.synchronize(self.device)
        return time.perf_counter()

    def lap(self, part: str) -> None:
        """Charge the time since the last lap to ``part`` (seconds, added up)."""
        now = self._now()
        self.parts[part] += now - self._last
        self._last = now
