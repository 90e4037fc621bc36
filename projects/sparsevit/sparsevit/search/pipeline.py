"""One search run from start to outputs: the entry point of ``tools/search.py`` and the demo.

It opens (or resumes) the search log of the work dir, reports progress through
mmengine's logger (the console and the work dir's log file), runs the
evolution under the latency band and writes the outputs.
"""
import hashlib
import os.path as osp
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Optional, Sequence, Union

from mmengine.dist import get_rank
from mmengine.logging import MMLogger

from ..latency_tables import TableLatency
from ..search_space import DEFAULT_CHOICES, SearchSpace
from ..sparsity import StageSparsity
from .evolution import Candidate, EvolutionSettings, SearchResult
from .outputs import SearchContext, write_outputs
from .resumable_search import run_search
from .search_log import SearchLog
from .task_evaluator import TaskEvaluator

LOG_NAME = 'search_log.jsonl'


class NoFeasibleConfiguration(RuntimeError):
    """The search ended without a single configuration inside the latency band."""


@dataclass(frozen=True)
class SearchRequest:
    """What a search is asked to do; resuming it requires the same request.

    Args:
        config: path of the task config (names the fine-tune config written).
        band: ``(min, max)`` backbone latency in ms.
        evolution: population, parents, mutation probability, budget, seed.
        choices: the ratios a gene may take.
        grouping: blocks per gene, ``'pair'``, ``'block'`` or ``'stage'``.
        finetune_base: base of the written fine-tune config (default: ``config``
            without its SparsityAdaptationHook).
    """
    config: str
    band: tuple[float, float]
    evolution: EvolutionSettings = field(default_factory=EvolutionSettings)
    choices: Sequence[float] = DEFAULT_CHOICES
    grouping: str = 'pair'
    finetune_base: Optional[str] = None


@dataclass
class SearchOutcome:
    """The result; ``best`` and ``files`` are set on rank 0 only."""
    result: SearchResult
    space: SearchSpace
    best: Optional[list[StageSparsity]] = None
    files: dict[str, Path] = field(default_factory=dict)


def file_sha256(path: Union[str, Path]) -> str:
    """Hex digest of a file's content, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def log_settings(request: SearchRequest, task: TaskEvaluator, space: SearchSpace) -> dict:
    """The header of the search log: everything that makes two searches the same search.

    The checkpoint is identified by its content, so a model retrained into the
    same file never resumes the search of the old one.
    """
    return dict(config=osp.abspath(request.config), checkpoint=osp.abspath(task.checkpoint),
                checkpoint_sha256=file_sha256(task.checkpoint), band=list(request.band),
                metric=task.metric_key, val_size=task.val_size, choices=list(space.choices),
                grouping=space.grouping, latency=task.latency_source.to_dict(),
                **asdict(request.evolution))


class SearchProgress:
    """Reports a running search through ``logger``: when the best changes, else at most
    every ``interval`` seconds."""

    def __init__(self, logger: MMLogger, metric_key: str, evaluated: Callable[[], int],
                 interval: float = 30.0, clock: Callable[[], float] = time.monotonic):
        self.logger, self.metric_key, self.evaluated = logger, metric_key, evaluated
        self.interval, self.clock = interval, clock
        self._last_time = float('-inf')
        self._last_best: Optional[Candidate] = None

    def __call__(self, done: int, total: int, best: Optional[Candidate]) -> None:
        now = self.clock()
        if best == self._last_best and now - self._last_time < self.interval and done < total:
            return
        self._last_time, self._last_best = now, best
        found = ('none in the band yet' if best is None else
                 f'best {self.metric_key} {best.metric:.4f} at {best.latency_ms:.2f} ms')
        self.logger.info(f'search: {done}/{total} proposals, {self.evaluated()} evaluated, '
                         f'{found}')


def search_sparsity(task: TaskEvaluator, request: SearchRequest,
                    work_dir: Union[str, Path]) -> SearchOutcome:
    """Search the layerwise sparsity of ``task``'s model under ``request.band``.

    Every rank calls this (under ``torchrun`` the validation set is split and
    all ranks take the same decisions); rank 0 writes ``search_log.jsonl`` and
    the outputs into ``work_dir``. Running it again with the same request
    resumes a killed search.

    Raises:
        ValueError: the band cannot be met, or the log belongs to another search.
        KeyError: the evaluator does not produce the metric.
        NoFeasibleConfiguration: no proposal fell inside the band.
    """
    work_dir = Path(work_dir)
    main = get_rank() == 0
    space = task.search_space(request.choices, request.grouping)
    log = SearchLog(work_dir / LOG_NAME if main else None,
                    log_settings(request, task, space) if main else {})
    logger = task.runner.logger
    band = tuple(request.band)
    if main:
        logger.info(f'searching {len(space.genes)} genes {[g.name for g in space.genes]} x '
                    f'choices {list(space.choices)} ({space.num_configurations()} '
                    f'configurations), band {band[0]:g}-{band[1]:g} ms, latency on '
                    f'{task.latency_source.describe()}, fitness {task.metric_key}'
                    + (f'; resuming {len(log.completed)} candidates of {log.path}'
                       if log.completed else ''))
        if isinstance(task.latency_source, TableLatency):
            for warning in task.latency_source.table.warnings():
                logger.warning(warning)
    progress = SearchProgress(logger, task.metric_key, lambda: len(log.metrics)) if main else \
        (lambda *args: None)
    result = run_search(task, space, request.evolution, band, log, progress)
    if result.best is None:
        raise NoFeasibleConfiguration(
            f'no candidate of {result.proposals} proposals met the band {band[0]:g}-{band[1]:g} '
            f'ms; widen it or raise the budget')
    outcome = SearchOutcome(result, space)
    if not main:
        return outcome
    outcome.best = space.to_sparsity(result.best.point)
    outcome.files = write_outputs(result, space, work_dir, SearchContext(
        request.config, task.cfg, task.checkpoint, task.metric_key, band,
        task.latency_source.to_dict(), request.finetune_base))
    logger.info(f'best: {outcome.best}  {task.metric_key} {result.best.metric:.4f}  latency '
                f'{result.best.latency_ms:.2f} ms ({task.latency_source.describe()}); outputs: '
                + ', '.join(str(path) for path in outcome.files.values()))
    return outcome
