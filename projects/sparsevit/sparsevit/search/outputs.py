"""What a finished search leaves in its work dir: best.json, pareto.json, search.png and a
config that fine-tunes the best configuration; each file written atomically."""
import os.path as osp
from datetime import datetime
from pathlib import Path
from typing import Optional

from mmengine.config import Config

from ..fileio import atomic_write_text, dump_json
from ..search_space import SearchSpace
from ..sparsity import normalize_sparsity, sparsity_to_genes
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


def write_outputs(result: SearchResult, space: SearchSpace, work_dir: Path, band, metric_key: str,
                  latency_protocol: dict, checkpoint: str, config_path: str, cfg: Config,
                  finetune_base: Optional[str]) -> dict[str, Path]:
    """best.json, pareto.json, a fine-tune config, and search.png; each written atomically.

    ``latency_protocol`` is recorded in best.json; when it names a latency ``table``,
    search.png's latency axis names it too.
    """
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
    table = latency_protocol.get('table')  # latencies predicted from a latency table
    plot_search(result.candidates, front, best, band, metric_key, files['search.png'],
                latency_label='backbone latency (ms)' + (
                    f', predicted from {Path(table).name} ({latency_protocol["runtime"]}, '
                    f'{latency_protocol["device_name"]})' if table else ''))
    backbone_key = 'img_backbone' if 'img_backbone' in cfg.model else 'backbone'
    note = (f'searched by tools/search.py on {datetime.now():%Y-%m-%d}: {metric_key} '
            f'{best.metric:.4g} at {best.latency_ms:.2f} ms backbone latency')
    files['config'] = work_dir / f'finetune_{Path(config_path).stem}.py'
    atomic_write_text(files['config'], finetune_config_text(
        finetune_base or config_path, checkpoint, backbone_key, sparsity,
        None if finetune_base else cfg, note))
    return files
