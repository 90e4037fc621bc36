"""The whole SparseViT pipeline on built-in demo data, in one call (``tools/demo.sh``).

Dense training, sparsity-aware adaptation, evolutionary search under a band of
the measured dense latency (the part of it that a smaller dense input can
match), fine-tuning of the best configuration and a final
evaluation, on a small Swin Mask R-CNN and the generated shapes dataset. The
final table sets the searched configuration beside the two alternatives at its
latency (one uniform ratio; the dense model on a smaller input) and reports how
well the kept windows cover the objects. Writes its pictures (search plot, kept
windows, optionally the search ablation) and a summary into the work dir.
"""
import json
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Optional

import torch
from mmengine.config import Config
from mmengine.runner import Runner
from pycocotools.coco import COCO
from torch import nn

from ..analysis import LatencyProtocol, WindowCoverage, object_coverage, object_polygons
from ..analysis.allocator import keep_freed_memory
from ..apis import init_model
from ..fileio import dump_json
from ..latency_tables import TableLatency
from ..latency_tables.measure import backbone_kwargs, measure_table
from ..latency_tables.table import relative_error
from ..model_sparsity import sparse_backbones
from ..search import (EvolutionSettings, RandomSearch, SearchOutcome, SearchRequest, TaskEvaluator,
                      search_sparsity)
from ..search.pipeline import LOG_NAME
from ..search.plot import plot_best_over_evaluations
from ..search_space import DEFAULT_CHOICES
from ..utils import config_path
from ..visualization import visualize_windows
from .equal_latency import (BAND_TOLERANCE, EqualLatency, dense_input_fractions, match_latency,
                            matched_band)
from .report import Role, conclusions, format_table, rows_by_role
from .synthetic_coco import RECIPE_FILE, coco_recipe, generate_coco

DENSE = 'demo/mask-rcnn_swin-mini-p4-w7_fpn_demo-coco.py'
SAA = 'demo/mask-rcnn_swin-mini-p4-w7_fpn_saa_demo-coco.py'
FINETUNE = 'demo/mask-rcnn_swin-mini-p4-w7_fpn_ft_demo-coco.py'
METRIC = 'coco/bbox_mAP'
TABLE_NAME = 'latency_table.json'
TABLE_RUNS = 12  # the fewest timed rounds of the demo's latency table (it times 9 forwards)
SMALL_INPUT_PAD = 8  # pad divisor of the smaller test inputs (the configs pad to 32)


@dataclass(frozen=True)
class DemoPlan:
    """Sizes of every step; :meth:`quick` shrinks them for tests."""
    work_dir: str = 'work_dirs/demo'
    data_root: str = 'data/demo_coco'
    image_size: int = 256
    num_train: int = 128
    num_val: int = 24
    dense_iters: int = 200
    saa_iters: int = 150
    finetune_iters: int = 100
    population: int = 12  # small: the band is narrow, and only proposals inside it fill it
    parents: int = 4
    mutation_prob: float = 0.2
    budget: int = 160
    # fractions of the measured dense latency (1.4-2.2x speedup); the search keeps to the part
    # of it where a smaller dense input matches (equal_latency.matched_band)
    band: tuple[float, float] = (0.45, 0.7)
    latency_runs: int = 20
    threads: int = 2
    seed: int = 0
    ablations: bool = False

    def quick(self) -> 'DemoPlan':
        return replace(self, num_train=8, num_val=3, dense_iters=4, saa_iters=4,
                       finetune_iters=2, population=4, parents=2, budget=24, latency_runs=3)


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


def _test_size(cfg: Config, size: tuple[int, int]) -> Config:
    """``cfg`` with its validation images resized to ``size`` (height, width) and padded to
    :data:`SMALL_INPUT_PAD`, so that the backbone sees exactly that size."""
    for step in cfg.val_dataloader.dataset.pipeline:
        if step['type'] == 'Resize':
            step['scale'] = (size[1], size[0])  # mmcv's (width, height)
            step['keep_ratio'] = False
    cfg.model.data_preprocessor.pad_size_divisor = SMALL_INPUT_PAD
    return cfg


def _train(cfg: Config) -> Path:
    Runner.from_cfg(cfg).train()
    return Path(cfg.work_dir) / f'iter_{cfg.train_cfg.max_iters}.pth'


def prepare_demo_data(plan: DemoPlan) -> None:
    """Generate the demo data unless ``data_root`` holds this generator's files of the plan."""
    root = Path(plan.data_root)
    size = (plan.image_size, plan.image_size)
    recipe = coco_recipe(plan.num_train, plan.num_val, size, plan.seed)
    if (root / RECIPE_FILE).is_file() and json.loads((root / RECIPE_FILE).read_text()) == recipe:
        print(f'{root} already holds this demo data', flush=True)
        return
    generate_coco(root, plan.num_train, plan.num_val, size, plan.seed)


def _row(role: Role, model: str, evaluator: TaskEvaluator, sparsity, latency_ms: float,
         dense_ms: float, size: tuple[int, int]) -> dict:
    metrics = evaluator.metrics(sparsity)
    return dict(role=role.value, model=model, sparsity=sparsity, input=list(size),
                latency_ms=latency_ms, speedup=dense_ms / latency_ms,
                bbox_mAP=metrics.get('coco/bbox_mAP', 0.0),
                segm_mAP=metrics.get('coco/segm_mAP', 0.0))


def _accuracy_loss(by_role: dict) -> dict:
    """bbox mAP each model loses from its dense accuracy to the searched configuration."""
    return dict(dense_trained=by_role[Role.DENSE]['bbox_mAP'] -
                by_role[Role.DENSE_PRUNED]['bbox_mAP'],
                saa=by_role[Role.SAA_DENSE]['bbox_mAP'] - by_role[Role.SEARCHED]['bbox_mAP'])


def _random_search_ablation(saa: TaskEvaluator, searched: SearchOutcome, request: SearchRequest,
                            out_file: Path) -> dict:
    """A random search with the evolution's band, budget and seed, reusing its measurements;
    plots the best metric over evaluations of both."""
    seen = {c.point: c for c in searched.result.candidates}
    space = searched.space

    def latency_of(point) -> float:
        return seen[point].latency_ms if point in seen else saa.latency(space.to_sparsity(point))

    def metric_of(point) -> float:
        known = seen.get(point)
        return known.metric if known and known.feasible else saa.metric(space.to_sparsity(point))

    random_result = RandomSearch(space, request.evolution, request.band, latency_of,
                                 metric_of).run()
    runs = dict(evolution=searched.result.candidates, random=random_result.candidates)
    plot_best_over_evaluations(runs, METRIC, out_file,
                               f'Evolution vs random search, {request.evolution.budget} '
                               f'proposals each')
    return {name: dict(best=max((c.metric for c in cands if c.feasible), default=None),
                       evaluations=sum(c.feasible for c in cands))
            for name, cands in runs.items()}


def _search_band(model: nn.Module, plan: DemoPlan, protocol: LatencyProtocol
                 ) -> tuple[float, float]:
    """The part of ``plan.band`` (fractions of the dense latency) where a smaller dense input
    can match the searched latency; all of it, with a warning, where none can."""
    fractions = dense_input_fractions(model, protocol)
    matched = matched_band(fractions.values(), plan.band)
    if matched is None:
        print(f'WARNING: no smaller input has a dense latency within {BAND_TOLERANCE:.1%} of '
              f'{plan.band[0]:g}-{plan.band[1]:g} of the full input\'s: searching all of it; '
              f'the smaller-input row may not match the searched latency', flush=True)
        return plan.band
    print(f'smaller dense inputs come within {BAND_TOLERANCE:.1%} of the latencies '
          f'{matched[0]:.3f}-{matched[1]:.3f} of the full input\'s, the longest such part of '
          f'{plan.band[0]:g}-{plan.band[1]:g} (Swin pads every stage to whole windows, so the '
          f'dense latency jumps between input sizes): the search keeps to it', flush=True)
    return matched


def _paper_rule_coverage(model: nn.Module, ann_file: Path, img_dir: Path) -> WindowCoverage:
    """Stage-0 object coverage of ``model`` at its configuration when stage 0 scores the
    patch embedding after its norm, as the paper does (docs/method.md, section 2)."""
    backbone = sparse_backbones(model)[0]
    chosen = backbone.score_before_patch_norm
    backbone.score_before_patch_norm = False
    try:
        return object_coverage(model, ann_file, img_dir)[0]
    finally:
        backbone.score_before_patch_norm = chosen


@dataclass(frozen=True)
class _Searched:
    """What the search step leaves: the SAA model's evaluator (latencies predicted from the
    latency table), the request, the search's outcome and its band."""
    saa: TaskEvaluator
    request: SearchRequest
    outcome: SearchOutcome
    band_ms: tuple[float, float]
    band_of_dense: tuple[float, float]


def _measure_latency_table(cfg: Config, plan: DemoPlan, protocol: LatencyProtocol,
                           out_file: Path) -> TableLatency:
    """The latency table of the backbone of ``cfg`` on this machine (PyTorch eager, parts timed
    in place), measured once and saved to ``out_file``: the search predicts from it instead of
    timing."""
    protocol = replace(protocol, warmup=5, runs=max(TABLE_RUNS, 2 * plan.latency_runs))
    table = measure_table(backbone_kwargs(cfg), 'pytorch', protocol, plan.threads,
                          DEFAULT_CHOICES, SAA, lambda text: print(text, flush=True))
    table.save(out_file)
    for warning in table.warnings():
        print(warning, flush=True)
    return TableLatency(out_file)


def _search(plan: DemoPlan, work: Path, saa_ckpt: Path, protocol: LatencyProtocol) -> _Searched:
    """Measure the latency table, narrow the band and search the SAA model under it."""
    search_dir = work / 'search'
    cfg = _config(SAA, plan, search_dir, 1)
    table = _measure_latency_table(cfg, plan, protocol, search_dir / TABLE_NAME)
    saa = TaskEvaluator(cfg, str(saa_ckpt), METRIC, protocol=protocol, latency_table=table)
    band_of_dense = _search_band(saa.model, plan, protocol)
    dense_ms = table.table.dense_ms
    band = (round(band_of_dense[0] * dense_ms, 3), round(band_of_dense[1] * dense_ms, 3))
    print(f'dense backbone latency {dense_ms:.2f} ms ({table.describe()}): search band '
          f'{band[0]:.2f}-{band[1]:.2f} ms', flush=True)
    # the SAA model was just retrained: the search of an earlier demo run does not apply to it
    (search_dir / LOG_NAME).unlink(missing_ok=True)
    settings = EvolutionSettings(plan.population, plan.parents, plan.mutation_prob, plan.budget,
                                 plan.seed)
    request = SearchRequest(str(config_path(SAA)), band, settings,
                            finetune_base=str(config_path(FINETUNE)))
    return _Searched(saa, request, search_sparsity(saa, request, search_dir), band,
                     band_of_dense)


def _table_check(table: TableLatency, best, equal: EqualLatency) -> dict:
    """The table's prediction for ``best`` against its latency timed live beside the dense
    backbone; the scaled error divides out the machine's drift since the table was measured."""
    predicted, measured = table.latency(best), equal.target_ms
    dense_ratio = equal.dense_ms / table.table.dense_ms
    return dict(table=str(table.path), predicted_ms=predicted, measured_ms=measured,
                dense_ratio=dense_ratio, error=relative_error(predicted, measured),
                scaled_error=relative_error(predicted * dense_ratio, measured))


def _evaluate_rows(plan: DemoPlan, work: Path, checkpoints: dict[str, Path], saa: TaskEvaluator,
                   best, equal: EqualLatency, protocol: LatencyProtocol) -> list[dict]:
    """The rows of the final table: each model at its configuration and input, with the
    latencies of ``equal``; ``checkpoints`` of the dense and the fine-tuned model."""
    size = plan.image_size

    def evaluator(name: str, work_name: str,
                  shape: Optional[tuple[int, int]] = None) -> TaskEvaluator:
        cfg = _config(name, plan, work / work_name, 1)
        cfg = cfg if shape is None else _test_size(cfg, shape)
        checkpoint = checkpoints['finetune' if name == FINETUNE else 'dense']
        return TaskEvaluator(cfg, str(checkpoint), METRIC, protocol=protocol, require_saa=False)

    dense = evaluator(DENSE, 'dense_eval')
    finetuned = evaluator(FINETUNE, 'final_eval')
    zeros = [0.0] * len(best)  # one ratio per stage
    uniform = [equal.uniform_ratio] * len(zeros)
    d, t = equal.dense_ms, equal.target_ms
    full = (size, size)
    rows = [_row(Role.DENSE, 'dense model', dense, zeros, d, d, full),
            _row(Role.DENSE_PRUNED, 'dense model', dense, best, t, d, full),
            _row(Role.SAA_DENSE, 'SAA model', saa, zeros, d, d, full),
            _row(Role.SEARCHED, 'SAA model', saa, best, t, d, full),
            _row(Role.FINETUNED, 'fine-tuned model', finetuned, best, t, d, full),
            _row(Role.UNIFORM, 'SAA model, uniform', saa, uniform, equal.uniform_ms, d, full),
            _row(Role.SMALLER, 'dense model, smaller',
                 evaluator(DENSE, 'dense_small_eval', equal.size), zeros, equal.size_ms, d,
                 equal.size)]
    slower = equal.slower_size()
    if slower is not None:  # the padding left no shape within 5%: the other side of the gap
        rows.append(_row(Role.SLOWER, 'dense model, smaller, slower',
                         evaluator(DENSE, 'dense_slower_eval', slower[0]), zeros, slower[1], d,
                         slower[0]))
    return rows


def _coverage(model: nn.Module, data_root: Path) -> tuple[list[WindowCoverage], WindowCoverage]:
    """Object coverage of the kept windows on the validation set, per stage; and in stage 0
    under the paper's scoring rule."""
    ann_file, img_dir = data_root / 'annotations' / 'instances_val2017.json', data_root / 'val2017'
    return object_coverage(model, ann_file, img_dir), _paper_rule_coverage(model, ann_file, img_dir)


def _windows_picture(model: nn.Module, plan: DemoPlan, best, coverage: list[WindowCoverage],
                     out_file: Path) -> None:
    """The kept windows of ``model`` on the first validation image, objects outlined."""
    data_root = Path(plan.data_root)
    coco = COCO(str(data_root / 'annotations' / 'instances_val2017.json'))
    first = coco.loadImgs(sorted(coco.getImgIds())[:1])[0]
    scale = (plan.image_size / first['width'], plan.image_size / first['height'])
    visualize_windows(model, str(data_root / 'val2017' / first['file_name']), out_file,
                      f'fine-tuned model, {best}: kept windows (yellow), objects (cyan); object '
                      f'pixels covered per stage: ' +
                      ', '.join(f'{c.coverage:.0%}' for c in coverage),
                      [object_polygons(coco, first['id'], scale)])


def run_demo(plan: DemoPlan = DemoPlan()) -> dict:
    """Run every step; returns the summary also written to ``work_dir/summary.json``."""
    keep_freed_memory()  # repeatable CPU timings (recorded with the latency table)
    torch.set_num_threads(plan.threads)
    work = Path(plan.work_dir).resolve()
    stage = Stages(8 if plan.ablations else 7)
    size = plan.image_size
    protocol = LatencyProtocol('cpu', 1, size, size, 'fp32', 3, plan.latency_runs)

    stage(f'demo data: {plan.num_train} train / {plan.num_val} val images of {size}x{size} in '
          f'{plan.data_root}')
    prepare_demo_data(plan)

    stage(f'dense training: {plan.dense_iters} iterations')
    dense_ckpt = _train(_config(DENSE, plan, work / 'dense', plan.dense_iters))

    stage(f'sparsity-aware adaptation: {plan.saa_iters} iterations from the dense model')
    saa_ckpt = _train(_config(SAA, plan, work / 'saa', plan.saa_iters,
                              load_from=str(dense_ckpt)))

    stage(f'evolutionary search: population {plan.population}, {plan.budget} proposals')
    searched = _search(plan, work, saa_ckpt, protocol)
    best = searched.outcome.best
    files = dict(search_plot=searched.outcome.files['search.png'],
                 finetune_config=searched.outcome.files['config'],
                 latency_table=searched.saa.latency_table.path)

    ablation: Optional[dict] = None
    if plan.ablations:
        stage(f'ablation: random search, {plan.budget} proposals under the same band')
        files['ablation_plot'] = work / 'search' / 'evolution_vs_random.png'
        ablation = _random_search_ablation(searched.saa, searched.outcome, searched.request,
                                           files['ablation_plot'])

    stage(f'fine-tuning {best}: {plan.finetune_iters} iterations from the SAA model')
    ft_ckpt = _train(_config(FINETUNE, plan, work / 'finetune', plan.finetune_iters,
                             load_from=str(saa_ckpt), model=dict(backbone=dict(sparsity=best))))

    stage('final evaluation: equal-latency alternatives, accuracy, object coverage')
    equal = match_latency(searched.saa.model, best,
                          replace(protocol, warmup=5, runs=2 * plan.latency_runs))
    print(f'at the searched configuration\'s {equal.target_ms:.2f} ms: uniform ratio '
          f'{equal.uniform_ratio:g} ({equal.uniform_ms:.2f} ms), dense at {equal.size[0]}x'
          f'{equal.size[1]} ({equal.size_ms:.2f} ms)', flush=True)
    table_check = _table_check(searched.saa.latency_table, best, equal)
    print(f'latency table: {table_check["predicted_ms"]:.2f} ms predicted for the searched '
          f'configuration, {table_check["measured_ms"]:.2f} ms measured (error '
          f'{table_check["error"]:+.1%}; {table_check["scaled_error"]:+.1%} scaled by the dense '
          f'ratio {table_check["dense_ratio"]:.3f})', flush=True)
    rows = _evaluate_rows(plan, work, dict(dense=dense_ckpt, finetune=ft_ckpt), searched.saa,
                          best, equal, protocol)
    model = init_model(_config(FINETUNE, plan, work / 'final_eval', 1), str(ft_ckpt), best)
    coverage, paper_rule = _coverage(model, Path(plan.data_root))

    stage('pictures')
    files['windows'] = work / 'windows.png'
    _windows_picture(model, plan, best, coverage, files['windows'])

    files['summary'] = work / 'summary.json'
    summary = dict(plan=asdict(plan), band_ms=list(searched.band_ms),
                   band_of_dense=list(searched.band_of_dense), best_sparsity=best, rows=rows,
                   equal_latency=equal.to_dict(), latency_table=table_check,
                   coverage=coverage[0].to_dict(),
                   coverage_per_stage=[c.to_dict() for c in coverage],
                   coverage_paper_rule=paper_rule.to_dict(),
                   accuracy_loss_at_searched=_accuracy_loss(rows_by_role(rows)),
                   files={name: str(path) for name, path in files.items()})
    if ablation is not None:
        summary['ablation'] = ablation
    dump_json(summary, files['summary'])
    print('\n' + format_table(rows))
    print('\n' + conclusions(summary, protocol))
    for name, path in summary['files'].items():
        print(f'  {name:<16} {path}')
    return summary
