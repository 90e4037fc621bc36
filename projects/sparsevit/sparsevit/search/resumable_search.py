"""The evolutionary search run over a task: resumed from its log, the same on every rank.

The band is checked (densest and sparsest configurations measured) before
anything is written; every rank takes rank 0's cached measurements, so all
take the same decisions.
"""
from typing import Callable, Optional, Protocol

from mmengine.dist import broadcast_object_list, get_rank

from ..search_space import SearchSpace
from .errors import LatencyBandError
from .evolution import Candidate, EvolutionarySearch, EvolutionSettings, Point, SearchResult
from .search_log import SearchLog


class Task(Protocol):
    """What the search needs from a task: latency (ms) and metric of a configuration."""

    def latency(self, sparsity) -> float:
        ...

    def metric(self, sparsity) -> float:
        ...


def _share_log(log: SearchLog) -> None:
    """Give every rank rank 0's cache, so all take the same decisions."""
    state = [(log.latencies, log.metrics, log.completed)]
    broadcast_object_list(state, src=0)
    log.latencies, log.metrics, log.completed = state[0]


def check_band(space: SearchSpace, band: tuple[float, float],
               latency_of: Callable[[Point], float]) -> tuple[float, float]:
    """Measure the densest and sparsest points; ``(fastest, slowest)`` latency in ms.

    Raises:
        LatencyBandError: the band is empty, or no configuration can meet it.
    """
    low, high = band
    if low > high:
        raise LatencyBandError(f'the latency band [{low}, {high}] ms is empty: its minimum is '
                               f'above its maximum')
    slowest = latency_of(tuple(space.choices[0] for _ in space.genes))
    fastest = latency_of(tuple(space.choices[-1] for _ in space.genes))
    if high < fastest or low > slowest:
        raise LatencyBandError(
            f'no configuration can meet the latency band [{low}, {high}] ms: the sparsest '
            f'(all {space.choices[-1]}) measured {fastest:.2f} ms and the dense one '
            f'{slowest:.2f} ms; choose a band inside [{fastest:.2f}, {slowest:.2f}]')
    return fastest, slowest


def run_search(task: Task, space: SearchSpace, settings: EvolutionSettings,
               band: tuple[float, float], log: SearchLog,
               progress: Callable[[int, int, Optional[Candidate]], None] = lambda *a: None
               ) -> SearchResult:
    """Evolve under ``band``, measuring and evaluating through ``task``, resuming from ``log``.

    Every rank calls this; rank 0 owns the log file. Nothing is written before
    the band check passes, and a search whose first evaluation fails (a metric
    key the evaluator does not produce) removes the log it created.
    """
    main = get_rank() == 0
    _share_log(log)
    resumed = bool(log.completed)

    def latency_of(point: Point) -> float:
        if point not in log.latencies:
            log.record_latency(point, task.latency(space.to_sparsity(point)))
        return log.latencies[point]

    def metric_of(point: Point) -> float:
        return log.metrics[point] if point in log.metrics else task.metric(space.to_sparsity(point))

    def on_candidate(candidate: Candidate) -> None:
        if candidate.point not in log.completed:
            log.record_candidate(candidate, space.to_sparsity(candidate.point))

    check_band(space, band, latency_of)
    if main:
        log.open_for_writing()
    try:
        return EvolutionarySearch(space, settings, band, latency_of, metric_of, on_candidate,
                                  progress).run()
    except KeyError:
        if main and not resumed and not log.metrics:
            log.discard()
        raise
    finally:
        log.close()
