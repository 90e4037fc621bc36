"""FLOPs and parameters of a whole task model per sparsity configuration (mmdet's convention).

    python tools/analysis/get_flops.py CONFIG [--checkpoint CKPT] [--sparsity NAME=JSON ...]
        [--sample-index N] [--out flops.json]

The model runs in ``tensor`` mode on sample N of the config's test dataset (at
the config's test resolution); mmengine's FlopAnalyzer counts one multiply-add as
one FLOP, as mmdet's ``tools/analysis_tools/get_flops.py`` does. The sparse backbone
computes only the windows it keeps, so only those are counted. Heads whose work
depends on the data (proposals, detections) are counted for this sample, with the
checkpoint's weights when given.
"""
import argparse
import json

import sparsevit  # noqa: F401  registers the plugin
from sparsevit import NoSparseBackboneError, get_sparsity, set_sparsity, sparse_backbones
from sparsevit.analysis.model_complexity import model_flops, parameters
from sparsevit.apis import SampleIndexError, dataset_batch, init_model
from sparsevit.presets import resolve_sparsity
from sparsevit.utils import run_tool, write_report
from sparsevit.utils.cli import add_debug_arg

DEFAULT_CONFIGS = ['dense', 'uniform-0.3', 'uniform-0.6', 'searched-0.6']


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config')
    parser.add_argument('--checkpoint', help='weights (default: random; heads whose work '
                        'depends on the data then do the work of an untrained model)')
    parser.add_argument('--sparsity', action='append', metavar='NAME[=JSON]',
                        help='dense, uniform-R, searched-0.3/0.6/0.7 or NAME=JSON; repeatable '
                        f'(default: {" ".join(DEFAULT_CONFIGS)})')
    parser.add_argument('--sample-index', type=int, default=0,
                        help='sample of the test dataset to count on')
    parser.add_argument('--out', help='write the results as JSON here')
    add_debug_arg(parser)
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    model = init_model(args.config, args.checkpoint).eval()
    backbone = sparse_backbones(model)[0]
    backbone_name = next(name for name, module in model.named_modules() if module is backbone)
    specs = args.sparsity or DEFAULT_CONFIGS
    specs = specs if 'dense' in specs else ['dense', *specs]
    configs = dict(resolve_sparsity(spec, len(backbone.depths)) for spec in specs)
    batch = dataset_batch(model, [args.sample_index])
    shape = tuple(batch['inputs'][0].shape if isinstance(batch['inputs'], list)
                  else batch['inputs']['img'][0].shape)
    rows = []
    for name, config in configs.items():
        set_sparsity(model, config)
        counts = model_flops(model, batch)
        rows.append(dict(name=name, sparsity=get_sparsity(model), flops=counts[''],
                         backbone_flops=counts[backbone_name]))
    dense = rows[0]
    params = parameters(model)
    print(f'{args.config}: input {shape} (sample {args.sample_index} of the test dataset), '
          f'{params / 1e6:.2f} M parameters; FLOPs = multiply-adds')
    print(f'\n{"configuration":<16} {"GFLOPs":>9} {"vs dense":>9} {"backbone":>9} '
          f'{"vs dense":>9}  sparsity')
    for row in rows:
        row['ratio'] = row['flops'] / dense['flops']
        row['backbone_ratio'] = row['backbone_flops'] / dense['backbone_flops']
        print(f'{row["name"]:<16} {row["flops"] / 1e9:>9.2f} {row["ratio"]:>9.3f} '
              f'{row["backbone_flops"] / 1e9:>9.2f} {row["backbone_ratio"]:>9.3f}  '
              f'{json.dumps(row["sparsity"])}')
    result = dict(config=args.config, input_shape=list(shape), parameters=params, results=rows)
    write_report(result, args.out)
    return result


if __name__ == '__main__':
    run_tool(main, (NoSparseBackboneError, ),
             {SampleIndexError: 'choose it with --sample-index'})
