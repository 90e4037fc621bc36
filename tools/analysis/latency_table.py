"""Measure a latency table on the target runtime and device, or check one against timings.

A table predicts the backbone latency of every configuration of the search
space from parts measured on the runtime the model will be deployed with, so
that ``tools/search.py --latency-table TABLE.json`` searches on another machine
without timing anything. Measure it on the target::

    python tools/analysis/latency_table.py CONFIG --runtime pytorch --device cpu \\
        --shape 672 672 --batch 1 --threads 2 --out swin-t_672_cpu.json

CONFIG is a task config with a Swin backbone (or an architecture name: swin-t,
swin-s, swin-b). Check a table on the same target: time random configurations,
the authors' three and uniform ones, predicted vs measured::

    python tools/analysis/latency_table.py --check swin-t_672_cpu.json --configs 20
"""
import argparse
import json
import os.path as osp
import sys

import torch

from sparsevit.analysis import DTYPES, LatencyProtocol
from sparsevit.analysis.allocator import use_allocator
from sparsevit.deployment import DeploymentError
from sparsevit.latency_tables import LatencyTable, LatencyTableError
from sparsevit.latency_tables.measure import backbone_kwargs, check_table, measure_table
from sparsevit.latency_tables.runtimes import RUNTIMES
from sparsevit.latency_tables.table import drift_warning
from sparsevit.presets import SWIN_ARCHS
from sparsevit.search_space import DEFAULT_CHOICES
from sparsevit.utils import ProgressLine, run_tool, write_report
from sparsevit.utils.cli import add_allocator_arg, add_debug_arg, chosen_allocator


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config', nargs='?',
                        help=f'task config with a Swin backbone, or one of {sorted(SWIN_ARCHS)}')
    parser.add_argument('--check', metavar='TABLE', help='check TABLE instead of measuring one')
    parser.add_argument('--configs', type=int, default=10,
                        help='--check: random configurations to time (default 10)')
    parser.add_argument('--runtime', choices=sorted(RUNTIMES), default='pytorch',
                        help='what runs the backbone: PyTorch eager, torch.compile, ONNX Runtime')
    parser.add_argument('--device', default='cpu', help="'cpu' or 'cuda[:N]'")
    parser.add_argument('--shape', type=int, nargs=2, default=(672, 672), metavar=('H', 'W'))
    parser.add_argument('--batch', type=int, default=1, help='images per forward')
    parser.add_argument('--dtype', choices=sorted(DTYPES), default='fp32')
    parser.add_argument('--threads', type=int, help='CPU threads (default: torch default)')
    parser.add_argument('--choices', type=float, nargs='+', default=list(DEFAULT_CHOICES),
                        help='ratios the table serves (default: the search default)')
    parser.add_argument('--warmup', type=int, default=2, help='untimed rounds')
    parser.add_argument('--runs', type=int, default=12, help='timed rounds')
    parser.add_argument('--seed', type=int, default=0, help='--check: random configurations')
    parser.add_argument('--out', help='the table (or, with --check, the check report) as JSON')
    add_allocator_arg(parser, ' (not with --check: a table is checked with its own)')
    add_debug_arg(parser)
    args = parser.parse_args(argv)
    if args.check is None:
        if args.config is None or args.out is None:
            parser.error('measuring a table needs CONFIG and --out TABLE.json')
        if not osp.isfile(args.config) and args.config not in SWIN_ARCHS:
            parser.error(f'{args.config} is neither a config file nor one of '
                         f'{sorted(SWIN_ARCHS)}')
    elif args.config is not None:
        parser.error('--check takes the table alone; its backbone and protocol are in it')
    elif args.allocator is not None:
        parser.error('--check times TABLE with the allocator setting it was measured with; '
                     '--allocator does not go with it')
    if min(*args.shape, args.batch) < 1 or args.runs < 1 or args.warmup < 0:
        parser.error('--shape and --batch must be positive, --runs >= 1 and --warmup >= 0')
    return args


def print_check(result: dict) -> None:
    print(f'\n{"configuration":<14} {"predicted ms":>12} {"measured ms":>12} {"error":>8} '
          f'{"scaled":>8}  sparsity')
    for row in result['rows']:
        print(f'{row["name"]:<14} {row["predicted_ms"]:>12.2f} {row["measured_ms"]:>12.2f} '
              f'{100 * row["error"]:>7.2f}% {100 * row["scaled_error"]:>7.2f}%  '
              f'{json.dumps(row["sparsity"])}')
    print(f'dense measured / dense in the table: {result["dense_ratio"]:.3f} (the scaled errors '
          'divide it out)')
    for key in ('raw', 'scaled'):
        s = result[key]
        print(f'{key:>6} errors: median |error| {100 * s["median_abs"]:.2f}%, max |error| '
              f'{100 * s["max_abs"]:.2f}%, mean error {100 * s["mean"]:+.2f}% over '
              f'{len(result["rows"]) - 1} configurations')
    for what, drift in (('the table', result['table_protocol'].get('drift')),
                        ('this check', result['drift'])):
        warning = drift_warning(drift, what)
        if warning is not None:
            print(warning, file=sys.stderr)


def main(argv=None) -> dict:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    line = ProgressLine(sys.stderr)
    if args.check is not None:
        table = LatencyTable.load(args.check)
        result = check_table(table, args.configs, args.seed, args.warmup, args.runs,
                             args.threads, line.update)
        line.close('timing done')
        print_check(result)
        write_report(result, args.out)
        return result
    use_allocator(chosen_allocator(args))
    protocol = LatencyProtocol(args.device, args.batch, *args.shape, args.dtype, args.warmup,
                               args.runs)
    table = measure_table(backbone_kwargs(args.config), args.runtime, protocol,
                          torch.get_num_threads(), args.choices, args.config, line.update)
    seconds = table.protocol['measure_seconds']
    line.close(f'measured in {seconds:.0f} s')
    table.save(args.out)
    for warning in table.warnings():
        print(warning, file=sys.stderr)
    print(f'wrote {args.out}: dense {table.dense_ms:.2f} ms, fixed {table.fixed_ms:.2f} ms, '
          f'{table.protocol["configurations"]} configurations timed in {seconds:.0f} s')
    return table.data


if __name__ == '__main__':
    run_tool(main, (LatencyTableError, DeploymentError))
