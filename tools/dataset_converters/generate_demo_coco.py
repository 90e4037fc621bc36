"""Write the synthetic COCO-format demo dataset (squares, disks, triangles).

The result has the layout of COCO 2017 and is read by mmdet's ``CocoDataset``
with ``metainfo=dict(classes=('square', 'disk', 'triangle'))``.

Example::

    python tools/dataset_converters/generate_demo_coco.py data/demo_coco \
        --num-train 32 --num-val 8 --size 256 256
"""
import argparse

from sparsevit.datasets import check_coco_files
from sparsevit.demo.synthetic_coco import generate_coco
from sparsevit.utils.cli import add_debug_arg, run_tool


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('root', help='dataset directory to write (created if needed)')
    parser.add_argument('--num-train', type=int, default=32, help='training images')
    parser.add_argument('--num-val', type=int, default=8, help='validation images')
    parser.add_argument('--size', type=int, nargs=2, default=(256, 256), metavar=('H', 'W'),
                        help='image height and width (default: 256 256)')
    parser.add_argument('--seed', type=int, default=0, help='random seed (default: 0)')
    add_debug_arg(parser)
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    info = generate_coco(args.root, num_train=args.num_train, num_val=args.num_val,
                         image_size=tuple(args.size), seed=args.seed)
    for split, num_images in (('train', args.num_train), ('val', args.num_val)):
        check_coco_files(info[f'{split}_ann_file'], info[f'{split}_img_dir'], info['classes'])
        print(f'{split}: {num_images} images ({args.size[0]}x{args.size[1]}) in '
              f'{info[f"{split}_img_dir"]}, {info["num_instances"][split]} objects in '
              f'{info[f"{split}_ann_file"]}')
    print(f'classes: {", ".join(info["classes"])}')
    return info


if __name__ == '__main__':
    run_tool(main)
