"""A search over a task model: cache and log, agreement between ranks, band check, outputs."""
import os.path as osp
from datetime import datetime
from pathlib import Path
from typing import Callable, Optional, Protocol

from mmengine.config import Config
from mmengine.dist import broadcast_object_list, get_rank

from ..search_space import SearchSpace
from ..sparsity import normalize_sparsity, sparsity_to_genes
from ..utils import atomic_write_text, dump_json
from .evolution import (Candidate, EvolutionarySearch, EvolutionSettings, Point, SearchResult,
                        pareto_front)
from .log import SearchLog
from .plot import plot_search


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
    """Measure the densest and sparsest points; raise if no configuration can meet the band."""
    low, high = band
    if low > high:
        raise ValueError(f'--latency-min {low} ms is above --latency-max {high} ms')
    slowest = latency_of(tuple(space.choices[0] for _ in space.genes))
    fastest = latency_of(tuple(space.choices[-1] for _ in space.genes))
    if high < fastest or low > slowest:
        raise ValueError(
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


def finetune_config_text(base: str, checkpoint: str, backbone_key: str, sparsity,
                         drop_saa_hook_from: Optional[Config], note: str) -> str:
    """A config that fine-tunes ``sparsity`` starting from ``checkpoint``."""
    lines = [f'# {note}', f'_base_ = {osp.abspath(base)!r}',
             f'load_from = {osp.abspath(checkpoint)!r}',
             f'model = dict({backbone_key}=dict(sparsity={sparsity!r}))']
    if drop_saa_hook_from is not None:  # the SAA config itself: keep its hooks but SAA
        hooks = [h.to_dict() if hasattr(h, 'to_dict') else dict(h)
                 for h in drop_saa_hook_from.get('custom_hooks', [])
                 if h.get('type') != 'SparsityAdaptationHook']
        lines.append(f'custom_hooks = {hooks!r}')
    return '\n'.join(lines) + '\n'


def write_outputs(result: SearchResult, space: SearchSpace, work_dir: Path, band, metric_key: str,
                  latency_protocol: dict, checkpoint: str, config_path: str, cfg: Config,
                  finetune_base: Optional[str]) -> dict[str, Path]:
    """best.json, pareto.json, a fine-tune config, and search.png; each written atomically."""
    best = result.best
    sparsity = space.to_sparsity(best.point)
    front = pareto_front(result.candidates)

    def describe(c: Candidate) -> dict:
        config = space.to_sparsity(c.point)
        return dict(sparsity=config,
                    genes=sparsity_to_genes(normalize_sparsity(config, space.depths), space.depths,
                                            space.grouping),
                    latency_ms=c.latency_ms, metric=c.metric)

    files = {name: work_dir / name for name in ('best.json', 'pareto.json', 'search.png')}
    dump_json(dict(**describe(best), metric_key=metric_key, latency_band_ms=list(band),
                   latency_protocol=latency_protocol, candidates=len(result.candidates),
                   evaluated=sum(c.feasible for c in result.candidates),
                   proposals=result.proposals, checkpoint=checkpoint, config=config_path),
              files['best.json'])
    dump_json([describe(c) for c in front], files['pareto.json'])
    plot_search(result.candidates, front, best, band, metric_key, files['search.png'])
    backbone_key = 'img_backbone' if 'img_backbone' in cfg.model else 'backbone'
    note = (f'searched by tools/search.py on {datetime.now():%Y-%m-%d}: {metric_key} '
            f'{best.metric:.4g} at {best.latency_ms:.2f} ms backbone latency')
    files['config'] = work_dir / f'finetune_{Path(config_path).stem}.py'
    atomic_write_text(files['config'], finetune_config_text(
        finetune_base or config_path, checkpoint, backbone_key, sparsity,
        None if finetune_base else cfg, note))
    return files
