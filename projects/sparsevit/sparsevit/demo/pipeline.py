"""The whole SparseViT pipeline on built-in demo data, in one call (``tools/demo.sh``).

Dense training, sparsity-aware adaptation, evolutionary search under a band of
the measured dense latency, fine-tuning of the best configuration and a final
evaluation, on a small Swin Mask R-CNN and the generated shapes dataset.
Ends with a table and writes its pictures (search plot, kept windows) and a
summary into the work dir.
"""
import json
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch
from mmengine.config import Config
from mmengine.runner import Runner

from ..analysis import LatencyProtocol
from ..apis import init_model
from ..fileio import dump_json
from ..search import EvolutionSettings, SearchRequest, TaskEvaluator, search_sparsity
from ..search.pipeline import LOG_NAME
from ..utils import config_path
from ..visualization import visualize_windows
from .synthetic_coco import generate_coco

DENSE = 'demo/mask-rcnn_swin-mini-p4-w7_fpn_demo-coco.py'
SAA = 'demo/mask-rcnn_swin-mini-p4-w7_fpn_saa_demo-coco.py'
FINETUNE = 'demo/mask-rcnn_swin-mini-p4-w7_fpn_ft_demo-coco.py'
METRIC = 'coco/bbox_mAP'


@dataclass(frozen=True)
class DemoPlan:
    """Sizes of every step; :meth:`quick` shrinks them for tests."""
    work_dir: str = 'work_dirs/demo'
    data_root: str = 'data/demo_coco'
    num_train: int = 128
    num_val: int = 24
    dense_iters: int = 200
    saa_iters: int = 150
    finetune_iters: int = 100
    population: int = 24
    parents: int = 6
    mutation_prob: float = 0.2
    budget: int = 160
    band: tuple[float, float] = (0.6, 0.8)  # fractions of the measured dense latency
    latency_runs: int = 20
    threads: int = 2
    seed: int = 0

    def quick(self) -> 'DemoPlan':
        return replace(self, num_train=8, num_val=3, dense_iters=4, saa_iters=4,
                       finetune_iters=2, population=4, parents=2, budget=8, latency_runs=3)


class Stages:
    """Numbered progress headers with the elapsed time."""

    def __init__(self, total: int):
        self.total, self.done, self.start = total, 0, time.monotonic()

    def __call__(self, text: str) -> None:
        self.done += 1
        elapsed = time.monotonic() - self.start
        print(f'\n=== [{self.done}/{self.total}] {text}  (elapsed {elapsed / 60:.1f} min)',
              flush=True)


def _config(name: str, plan: DemoPlan, work_dir: Path, iters: int, **overrides) -> Config:
    """A demo config pointed at the plan's data and work dir, with ``iters`` iterations."""
    cfg = Config.fromfile(str(config_path(name)))
    root = str(Path(plan.data_root).resolve()) + '/'
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = root
    for evaluator in ('val_evaluator', 'test_evaluator'):
        cfg[evaluator].ann_file = root + 'annotations/instances_val2017.json'
    cfg.train_cfg.max_iters = cfg.train_cfg.val_interval = iters
    cfg.param_scheduler[-1].end = iters
    cfg.default_hooks.checkpoint.interval = iters
    cfg.randomness = dict(seed=plan.seed)
    cfg.work_dir = str(work_dir)
    cfg.merge_from_dict(overrides)
    return cfg


def _train(cfg: Config) -> Path:
    Runner.from_cfg(cfg).train()
    return Path(cfg.work_dir) / f'iter_{cfg.train_cfg.max_iters}.pth'


def _table(rows: list[dict]) -> str:
    head = f'{"model":<22} {"sparsity":<34} {"latency ms":>10} {"speedup":>8} {"bbox mAP":>9} ' \
           f'{"mask mAP":>9}'
    lines = [head, '-' * len(head)]
    for r in rows:
        lines.append(f'{r["model"]:<22} {json.dumps(r["sparsity"]):<34} {r["latency_ms"]:>10.2f} '
                     f'{r["speedup"]:>7.2f}x {r["bbox_mAP"]:>9.3f} {r["segm_mAP"]:>9.3f}')
    return '\n'.join(lines)


def run_demo(plan: DemoPlan = DemoPlan()) -> dict:
    """Run every step; returns the summary also written to ``work_dir/summary.json``."""
    torch.set_num_threads(plan.threads)
    work = Path(plan.work_dir).resolve()
    stage = Stages(7)
    protocol = LatencyProtocol('cpu', 1, 224, 224, 'fp32', 3, plan.latency_runs)

    stage(f'demo data: {plan.num_train} train / {plan.num_val} val images in {plan.data_root}')
    if not (Path(plan.data_root) / 'annotations' / 'instances_val2017.json').is_file():
        generate_coco(plan.data_root, plan.num_train, plan.num_val, (224, 224), plan.seed)

    stage(f'dense training: {plan.dense_iters} iterations')
    dense_ckpt = _train(_config(DENSE, plan, work / 'dense', plan.dense_iters))

    stage(f'sparsity-aware adaptation: {plan.saa_iters} iterations from the dense model')
    saa_ckpt = _train(_config(SAA, plan, work / 'saa', plan.saa_iters,
                              load_from=str(dense_ckpt)))

    stage(f'evolutionary search: population {plan.population}, {plan.budget} proposals')
    search_dir = work / 'search'
    saa = TaskEvaluator(_config(SAA, plan, search_dir, 1), str(saa_ckpt), METRIC,
                        protocol=protocol)
    dense_ms = saa.latencies({'dense': None}, warmup=5, runs=2 * plan.latency_runs)['dense']
    band = (round(plan.band[0] * dense_ms, 3), round(plan.band[1] * dense_ms, 3))
    print(f'dense backbone latency {dense_ms:.2f} ms ({protocol.describe()}): search band '
          f'{band[0]:.2f}-{band[1]:.2f} ms', flush=True)
    # the SAA model was just retrained: the search of an earlier demo run does not apply to it
    (search_dir / LOG_NAME).unlink(missing_ok=True)
    settings = EvolutionSettings(plan.population, plan.parents, plan.mutation_prob, plan.budget,
                                 plan.seed)
    searched = search_sparsity(saa, SearchRequest(str(config_path(SAA)), band, settings,
                                                  finetune_base=str(config_path(FINETUNE))),
                               search_dir)
    best, files, space = searched.best, searched.files, searched.space

    stage(f'fine-tuning {best}: {plan.finetune_iters} iterations from the SAA model')
    ft_ckpt = _train(_config(FINETUNE, plan, work / 'finetune', plan.finetune_iters,
                             load_from=str(saa_ckpt), model=dict(backbone=dict(sparsity=best))))

    stage('final evaluation')
    dense = TaskEvaluator(_config(DENSE, plan, work / 'dense_eval', 1), str(dense_ckpt), METRIC,
                          protocol=protocol, require_saa=False)
    finetuned = TaskEvaluator(_config(FINETUNE, plan, work / 'final_eval', 1), str(ft_ckpt),
                              METRIC, protocol=protocol, require_saa=False)
    latency = dense.latencies({'dense': None, 'searched': best}, runs=2 * plan.latency_runs)
    dense_config = [0.0] * len(space.depths)
    measured = [('dense model', dense, dense_config), ('dense model', dense, best),
                ('SAA model', saa, dense_config), ('SAA model', saa, best),
                ('fine-tuned model', finetuned, best)]
    rows = []
    for name, evaluator, config in measured:
        metrics = evaluator.metrics(config)
        key = 'dense' if config == dense_config else 'searched'
        rows.append(dict(model=name, sparsity=config, latency_ms=latency[key],
                         speedup=latency['dense'] / latency[key],
                         bbox_mAP=metrics.get('coco/bbox_mAP', 0.0),
                         segm_mAP=metrics.get('coco/segm_mAP', 0.0)))

    stage('pictures')
    image = sorted((Path(plan.data_root) / 'val2017').iterdir())[0]
    model = init_model(_config(FINETUNE, plan, work / 'final_eval', 1), str(ft_ckpt), best)
    visualize_windows(model, str(image), work / 'windows.png',
                      f'fine-tuned model, sparsity {best}: kept windows per stage')

    loss_dense = rows[0]['bbox_mAP'] - rows[1]['bbox_mAP']
    loss_saa = rows[2]['bbox_mAP'] - rows[3]['bbox_mAP']
    summary = dict(plan=asdict(plan), band_ms=list(band), best_sparsity=best, rows=rows,
                   accuracy_loss_at_searched=dict(dense_trained=loss_dense, saa=loss_saa),
                   files=dict(search_plot=str(files['search.png']),
                              windows=str(work / 'windows.png'),
                              finetune_config=str(files['config']),
                              summary=str(work / 'summary.json')))
    dump_json(summary, work / 'summary.json')
    print('\n' + _table(rows))
    print(f'\nFrom its own dense accuracy to the searched configuration, the dense-trained model '
          f'loses {loss_dense:.3f} bbox mAP and the SAA model {loss_saa:.3f}: sparsity-aware '
          f'adaptation {"keeps" if loss_saa < loss_dense else "does not keep"} the accuracy '
          f'better.')
    print(f'backbone speedup of the searched configuration: {rows[-1]["speedup"]:.2f}x '
          f'({protocol.describe()}); fine-tuned bbox mAP {rows[-1]["bbox_mAP"]:.3f} vs dense '
          f'{rows[0]["bbox_mAP"]:.3f}')
    for name, path in summary['files'].items():
        print(f'  {name:<16} {path}')
    return summary
