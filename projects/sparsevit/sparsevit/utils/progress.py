"""One status line for long jobs: redrawn in a terminal, printed now and then in a log."""
import sys
import time
from typing import TextIO


class ProgressLine:
    """Show ``text`` as progress: in place on a terminal, else at most every ``interval`` s."""

    def __init__(self, stream: TextIO = sys.stderr, interval: float = 10.0):
        self.stream = stream
        self.interval = interval
        self.tty = stream.isatty()
        self._last = float('-inf')

    def update(self, text: str, force: bool = False) -> None:
        if self.tty:
            self.stream.write('\r\033[K' + text)
            self.stream.flush()
            return
        now = time.monotonic()
        if force or now - self._last >= self.interval:
            self.stream.write(text + '\n')
            self.stream.flush()
            self._last = now

    def close(self, text: str = '') -> None:
        """Print the final state on its own line."""
        if self.tty:
            self.stream.write('\r\033[K' + text + '\n')
        elif text:
            self.stream.write(text + '\n')
        self.stream.flush()
