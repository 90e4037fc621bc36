"""Draw, per stage, which windows the sparse backbone keeps on an image or camera sample.

    python tools/analysis/visualize_windows.py CONFIG CHECKPOINT IMAGE [--sparsity JSON]
        [--out windows.png]
    python tools/analysis/visualize_windows.py BEVDET_CONFIG CHECKPOINT [--sample-index N] ...

Each panel shows the network input with the kept windows of the stage's most
pruned W-MSA block outlined and the pruned ones dimmed. mmdet and mmseg configs
take an image; BEVDet (mmdet3d) configs take sample N of the config's test
dataset and draw its six camera images, one row each.
"""
import argparse
import json
import os.path as osp

from mmengine.config import Config

import sparsevit  # noqa: F401  registers the plugin
from sparsevit import NoSparseBackboneError, get_sparsity
from sparsevit.apis import SampleIndexError, dataset_sample, init_model
from sparsevit.utils import run_tool, task_of
from sparsevit.utils.cli import add_debug_arg
from sparsevit.visualization import visualize_windows


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('image', nargs='?', help='image file (mmdet and mmseg configs)')
    parser.add_argument('--sample-index', type=int, default=0,
                        help='sample of the test dataset (BEVDet configs)')
    parser.add_argument('--sparsity', type=json.loads, help="default: the config's")
    parser.add_argument('--out', default='windows.png', help='PNG to write')
    parser.add_argument('--device', default='cpu')
    add_debug_arg(parser)
    args = parser.parse_args(argv)
    for path in (args.config, args.checkpoint, args.image):
        if path is not None and not osp.isfile(path):
            parser.error(f'{path} does not exist')
    args.cfg = Config.fromfile(args.config)
    multi_camera = task_of(args.cfg) == 'mmdet3d'
    if not multi_camera and args.image is None:
        parser.error('IMAGE is needed for an mmdet or mmseg config')
    if multi_camera and args.image is not None:
        parser.error('a BEVDet config takes --sample-index N of its test dataset, not an image')
    return args


def main(argv=None) -> str:
    args = parse_args(argv)
    model = init_model(args.cfg, args.checkpoint, args.sparsity, device=args.device)
    if args.image is None:
        source = dataset_sample(model, args.sample_index)
        name = f'sample {source.get("token", args.sample_index)}'
    else:
        source, name = args.image, osp.basename(args.image)
    visualize_windows(model, source, args.out, f'{name}, sparsity {get_sparsity(model)}')
    print(f'wrote {args.out}')
    return args.out


if __name__ == '__main__':
    run_tool(main, (NoSparseBackboneError, ),
             {SampleIndexError: 'choose it with --sample-index'})
