"""What a finished search leaves in its work dir: best.json, pareto.json, search.png and a
config that fine-tunes the best configuration; each file written atomically."""
import os.path as osp
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Optional

from mmengine.config import Config

from ..fileio import atomic_write_text, dump_json
from ..search_space import SearchSpace
from .evolution import Candidate, SearchResult, pareto_front
from .plot import plot_search


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


@dataclass(frozen=True)
class SearchContext:
    """What a search ran on and under, as its outputs record it.

    Args:
        config: path of the task config (names the fine-tune config).
        cfg: that config, loaded.
        checkpoint: the searched model's weights.
        metric_key: the metric maximized.
        band: ``(min, max)`` backbone latency in ms.
        latency_protocol: how latency was measured (``LatencyProtocol.to_dict()``).
        finetune_base: base of the fine-tune config (default: ``config`` without its
            SparsityAdaptationHook).
    """
    config: str
    cfg: Config
    checkpoint: str
    metric_key: str
    band: tuple[float, float]
    latency_protocol: dict
    finetune_base: Optional[str] = None


def write_outputs(result: SearchResult, space: SearchSpace, work_dir: Path,
                  context: SearchContext) -> dict[str, Path]:
    """best.json, pareto.json, a fine-tune config, and search.png; each written atomically."""
    best, front, c = result.best, pareto_front(result.candidates), context
    gene_names = [gene.name for gene in space.genes]

    def describe(candidate: Candidate) -> dict:
        return dict(sparsity=space.to_sparsity(candidate.point),
                    genes=dict(zip(gene_names, candidate.point)),
                    latency_ms=candidate.latency_ms, metric=candidate.metric)

    files = {name: work_dir / name for name in ('best.json', 'pareto.json', 'search.png')}
    dump_json(dict(**describe(best), metric_key=c.metric_key, latency_band_ms=list(c.band),
                   latency_protocol=c.latency_protocol, candidates=len(result.candidates),
                   evaluated=sum(cand.feasible for cand in result.candidates),
                   proposals=result.proposals, checkpoint=c.checkpoint, config=c.config),
              files['best.json'])
    dump_json([describe(cand) for cand in front], files['pareto.json'])
    table = c.latency_protocol.get('table')  # latencies predicted from a latency table
    plot_search(result.candidates, front, best, c.band, c.metric_key, files['search.png'],
                latency_label='backbone latency (ms)' + (
                    f', predicted from {Path(table).name} ({c.latency_protocol["runtime"]}, '
                    f'{c.latency_protocol["device_name"]})' if table else ''))
    backbone_key = 'img_backbone' if 'img_backbone' in c.cfg.model else 'backbone'
    note = (f'searched by tools/search.py on {datetime.now():%Y-%m-%d}: {c.metric_key} '
            f'{best.metric:.4g} at {best.latency_ms:.2f} ms backbone latency')
    files['config'] = work_dir / f'finetune_{Path(c.config).stem}.py'
    atomic_write_text(files['config'], finetune_config_text(
        c.finetune_base or c.config, c.checkpoint, backbone_key, space.to_sparsity(best.point),
        None if c.finetune_base else c.cfg, note))
    return files
