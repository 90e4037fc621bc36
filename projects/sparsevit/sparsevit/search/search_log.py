"""The search's JSON-lines log: every measured candidate, and the cache a restarted search uses.

Line 1 holds the settings that define the search. Then, per candidate, a
``latency`` record as soon as its latency is measured and a ``candidate``
record (configuration, latency, metric, feasible) once it is complete. A
search killed at any point resumes from these records without measuring or
evaluating anything twice; a torn last line (killed mid-write) is dropped.
"""
import json
import os
from pathlib import Path
from typing import Optional

from ..fileio import atomic_write_text
from .errors import SearchLogMismatch
from .evolution import Candidate, Point


def _point(values) -> Point:
    return tuple(float(v) for v in values)


class SearchLog:
    """Append-only log of one search; refuses to mix searches with different settings.

    Nothing is written until :meth:`open_for_writing`, so a search that stops
    on bad input leaves no file behind. With ``path=None`` (ranks other than
    0) it only holds the cache. An existing log of other settings raises
    :class:`SearchLogMismatch`.
    """

    def __init__(self, path: Optional[Path], settings: dict):
        self.path = None if path is None else Path(path)
        self.settings = json.loads(json.dumps(settings))  # as it reads back from JSON
        self.latencies: dict[Point, float] = {}
        self.metrics: dict[Point, float] = {}
        self.completed: set[Point] = set()  # points with a candidate record
        self._file = None
        self._pending: list[dict] = []
        if self.path is not None and self.path.exists():
            self._read()

    def _read(self) -> None:
        text = self.path.read_text()
        lines = text.split('\n')
        complete, torn = lines[:-1], lines[-1]  # a line counts once its newline is written
        if torn:
            atomic_write_text(self.path, '\n'.join(complete) + '\n')
        if not complete:
            return
        header = json.loads(complete[0]).get('settings')
        if header != self.settings:
            diff = sorted(k for k in {**header, **self.settings}
                          if header.get(k) != self.settings.get(k)) if header else ['all']
            raise SearchLogMismatch(
                f'{self.path} belongs to a search with other settings (differing: '
                f'{", ".join(diff)}): search in another directory, or delete it to start over')
        for line in complete[1:]:
            record = json.loads(line)
            point = _point(record['point'])
            self.latencies[point] = record['latency_ms']
            if record['type'] == 'candidate':
                self.completed.add(point)
                if record['feasible']:
                    self.metrics[point] = record['metric']

    def open_for_writing(self) -> None:
        """Start writing: the header of a new log, then everything held back so far."""
        new = not self.path.exists() or self.path.stat().st_size == 0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.path, 'a')
        if new:
            self._write({'settings': self.settings})
        for record in self._pending:
            self._write(record)
        self._pending.clear()

    def _write(self, record: dict) -> None:
        if self.path is None:
            return
        if self._file is None:
            self._pending.append(record)
            return
        self._file.write(json.dumps(record) + '\n')
        self._file.flush()
        os.fsync(self._file.fileno())

    def record_latency(self, point: Point, latency_ms: float) -> None:
        self.latencies[point] = latency_ms
        self._write(dict(type='latency', point=list(point), latency_ms=latency_ms))

    def record_candidate(self, candidate: Candidate, sparsity) -> None:
        self.completed.add(candidate.point)
        if candidate.feasible:
            self.metrics[candidate.point] = candidate.metric
        self._write(dict(type='candidate', point=list(candidate.point), sparsity=sparsity,
                         latency_ms=candidate.latency_ms, metric=candidate.metric,
                         feasible=candidate.feasible))

    def discard(self) -> None:
        """Remove a log this search created before anything worth keeping was in it."""
        self.close()
        if self.path is not None:
            self.path.unlink(missing_ok=True)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
