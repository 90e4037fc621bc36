"""Draw, per stage, which windows the sparse backbone keeps on an image.

    python tools/analysis/visualize_windows.py CONFIG CHECKPOINT IMAGE [--sparsity JSON]
        [--out windows.png]

Each panel shows the network input with the kept windows of the stage's most
pruned W-MSA block outlined and the pruned ones dimmed (mmdet and mmseg configs).
"""
import argparse
import json
import os.path as osp

import sparsevit  # noqa: F401  registers the plugin
from sparsevit import get_sparsity
from sparsevit.apis import init_model
from sparsevit.visualization import visualize_windows


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('image')
    parser.add_argument('--sparsity', type=json.loads, help="default: the config's")
    parser.add_argument('--out', default='windows.png', help='PNG to write')
    parser.add_argument('--device', default='cpu')
    args = parser.parse_args(argv)
    for path in (args.config, args.checkpoint, args.image):
        if not osp.isfile(path):
            parser.error(f'{path} does not exist')
    return args


def main(argv=None) -> str:
    args = parse_args(argv)
    model = init_model(args.config, args.checkpoint, args.sparsity, device=args.device)
    title = f'{osp.basename(args.image)}, sparsity {get_sparsity(model)}'
    visualize_windows(model, args.image, args.out, title)
    print(f'wrote {args.out}')
    return args.out


if __name__ == '__main__':
    main()
