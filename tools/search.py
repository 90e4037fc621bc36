"""Evolutionary search of layerwise sparsity under a backbone latency band (SparseViT).

    python tools/search.py CONFIG SAA_CHECKPOINT --latency-min MS --latency-max MS [options]
    torchrun --nproc_per_node N tools/search.py CONFIG SAA_CHECKPOINT ... --launcher pytorch

CONFIG is the task config the SAA checkpoint was trained with (mmdet, mmseg or
mmdet3d); its validation dataloader and evaluator score each candidate. A
candidate whose measured backbone latency is outside the band is never
evaluated. Every candidate is appended to WORK_DIR/search_log.jsonl; running
the same command again resumes a killed search. Outputs in WORK_DIR:
best.json, pareto.json, search.png and finetune_<config>.py.

With --latency-table TABLE.json (measured on the deployment target by
tools/analysis/latency_table.py) every latency is predicted from the table:
nothing is timed here, and the table must match the model's backbone, the
--latency-shape, the --latency-batch and the --choices.
"""
import argparse
import os.path as osp
from pathlib import Path

import sparsevit  # noqa: F401  registers the plugin, allows loading mmengine checkpoints
from sparsevit import NoSparseBackboneError
from sparsevit.analysis import LatencyProtocol
from sparsevit.analysis.allocator import use_allocator
from sparsevit.datasets import check_dataset_files
from sparsevit.fileio import undo_new_entries_on_error
from sparsevit.latency_tables import LatencyTableError, TableLatency
from sparsevit.search import (EvolutionSettings, NoFeasibleConfiguration, SearchRequest,
                              TaskEvaluator, search_sparsity)
from sparsevit.search.errors import (LatencyBandError, MetricNotFound, NotSAACheckpoint,
                                     SearchInputError, SearchLogMismatch)
from sparsevit.search.pipeline import LOG_NAME
from sparsevit.search_space import DEFAULT_CHOICES
from sparsevit.utils import (add_runner_args, load_config, parse_runner_args, run_tool,
                             setup_cpu_distributed)
from sparsevit.utils.cli import UsageError, add_allocator_arg, chosen_allocator

# metric the search maximizes, by evaluator type, when --metric is not given
DEFAULT_METRICS = {
    'CocoMetric': 'coco/bbox_mAP',
    'IoUMetric': 'mIoU',
    'NuScenesMetric': 'NuScenes metric/pred_instances_3d_NuScenes/NDS',
}

# what to do about a refused search, in this tool's options (added to the library's message)
HINTS = {
    LatencyBandError: 'set it with --latency-min and --latency-max',
    NotSAACheckpoint: 'or pass --allow-non-saa to search it anyway',
    MetricNotFound: 'choose one with --metric',
    SearchLogMismatch: '--work-dir sets the directory',
    NoFeasibleConfiguration: '--latency-min and --latency-max set the band, --budget the budget',
    LatencyTableError: '--latency-shape and --latency-batch set the input and batch of the '
    'search, --choices its ratios; tools/analysis/latency_table.py measures a table',
}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config', help='task config of the SAA model')
    parser.add_argument('checkpoint', help='SAA checkpoint')
    parser.add_argument('--latency-min', type=float, required=True, help='band minimum (ms)')
    parser.add_argument('--latency-max', type=float, required=True, help='band maximum (ms)')
    parser.add_argument('--work-dir', help='default: work_dirs/<config>/search_<min>-<max>ms')
    evo = parser.add_argument_group('evolution (docs/method.md, section 5)')
    evo.add_argument('--population', type=int, default=100)
    evo.add_argument('--parents', type=int, default=25)
    evo.add_argument('--mutation-prob', type=float, default=0.1)
    evo.add_argument('--budget', type=int, default=10000, help='candidates to propose')
    evo.add_argument('--choices', type=float, nargs='+', default=list(DEFAULT_CHOICES))
    evo.add_argument('--grouping', choices=['pair', 'block', 'stage'], default='pair')
    evo.add_argument('--seed', type=int, default=0)
    fit = parser.add_argument_group('fitness')
    fit.add_argument('--metric', help='metric key to maximize (default: by evaluator, e.g. '
                     f'{", ".join(f"{v} for {k}" for k, v in DEFAULT_METRICS.items())})')
    fit.add_argument('--val-size', type=int, help='evaluate on the first N validation samples')
    lat = parser.add_argument_group('latency protocol (docs/method.md, section 6)')
    lat.add_argument('--latency-device', default=None,
                     help='default: cuda where available, else cpu')
    lat.add_argument('--latency-batch', type=int, default=1, help='images per forward')
    lat.add_argument('--latency-shape', type=int, nargs=2, default=(672, 672), metavar=('H', 'W'))
    lat.add_argument('--latency-dtype', choices=['fp32', 'fp16', 'bf16'], default='fp32')
    lat.add_argument('--latency-warmup', type=int, default=2)
    lat.add_argument('--latency-runs', type=int, default=10)
    lat.add_argument('--threads', type=int, help='torch CPU threads')
    lat.add_argument('--latency-table', metavar='TABLE.json',
                     help='predict latencies from this table (measured on the deployment '
                     'target by tools/analysis/latency_table.py) instead of timing them here')
    parser.add_argument('--finetune-base', help='base of the written fine-tune config (default: '
                        'CONFIG without its SparsityAdaptationHook)')
    parser.add_argument('--allow-non-saa', action='store_true',
                        help='search a checkpoint that was not trained with SAA')
    add_allocator_arg(parser, ' (for live timing; not with --latency-table)')
    add_runner_args(parser, 'val_dataloader.batch_size=1')
    args = parse_runner_args(parser, argv)
    if args.latency_table is not None and args.allocator is not None:
        parser.error('--allocator sets how this process times the candidates; with '
                     '--latency-table nothing is timed here')
    if args.latency_min > args.latency_max:
        parser.error(f'--latency-min {args.latency_min} ms is above --latency-max '
                     f'{args.latency_max} ms')
    for path in (args.config, args.checkpoint, args.finetune_base, args.latency_table):
        if path is not None and not osp.isfile(path):
            parser.error(f'{path} does not exist')
    return args


def metric_key(args: argparse.Namespace, cfg) -> str:
    if args.metric:
        return args.metric
    evaluator = cfg.val_evaluator
    kind = (evaluator[0] if isinstance(evaluator, (list, tuple)) else evaluator).get('type')
    if kind not in DEFAULT_METRICS:
        raise UsageError(f'no default metric for evaluator {kind}; pass --metric KEY')
    return DEFAULT_METRICS[kind]


def main(argv=None) -> dict:
    args = parse_args(argv)
    if args.latency_table is None:  # this process times the candidates
        use_allocator(chosen_allocator(args))
    if args.threads:
        import torch
        torch.set_num_threads(args.threads)
    work_dir = args.work_dir or osp.join(
        'work_dirs', Path(args.config).stem, f'search_{args.latency_min:g}-{args.latency_max:g}ms')
    cfg = load_config(args.config, args.cfg_options, work_dir)
    cfg.launcher = args.launcher
    setup_cpu_distributed(cfg)
    protocol = LatencyProtocol(args.latency_device, args.latency_batch, *args.latency_shape,
                               args.latency_dtype, args.latency_warmup, args.latency_runs)
    request = SearchRequest(
        args.config, (args.latency_min, args.latency_max),
        EvolutionSettings(args.population, args.parents, args.mutation_prob, args.budget,
                          args.seed), tuple(args.choices), args.grouping, args.finetune_base)
    log = Path(work_dir) / LOG_NAME
    size = log.stat().st_size if log.exists() else -1
    # a search refused before it starts (band, checkpoint, metric) leaves the work dir as it was
    with undo_new_entries_on_error(work_dir, keep=lambda: log.exists() and
                                   log.stat().st_size != size):
        table = TableLatency(args.latency_table) if args.latency_table else None
        task = TaskEvaluator(cfg, args.checkpoint, metric_key(args, cfg), args.val_size,
                             protocol, require_saa=not args.allow_non_saa, latency_table=table)
        check_dataset_files(task.dataloader.dataset)
        outcome = search_sparsity(task, request, work_dir)
    return {name: str(path) for name, path in outcome.files.items()}


if __name__ == '__main__':
    run_tool(main, (SearchInputError, NoSparseBackboneError), HINTS)
