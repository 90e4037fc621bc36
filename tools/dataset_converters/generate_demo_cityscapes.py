"""Write the synthetic Cityscapes-format street-scene dataset.

The result has the layout of Cityscapes (leftImg8bit/ and gtFine/ with
``*_gtFine_labelTrainIds.png``) and is read by mmseg's ``CityscapesDataset``
as it is: point ``data_root`` of a Cityscapes config at it.

Example::

    python tools/dataset_converters/generate_demo_cityscapes.py data/demo_cityscapes \
        --num-train 16 --num-val 4 --size 256 512
"""
import argparse

from mmengine.registry import init_default_scope
from mmseg.datasets import CityscapesDataset

from sparsevit.datasets import check_dataset_files
from sparsevit.demo.synthetic_cityscapes import generate_cityscapes
from sparsevit.utils.cli import add_debug_arg, run_tool


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('root', help='dataset directory to write (created if needed)')
    parser.add_argument('--num-train', type=int, default=16, help='training images')
    parser.add_argument('--num-val', type=int, default=4, help='validation images')
    parser.add_argument('--size', type=int, nargs=2, default=(256, 512), metavar=('H', 'W'),
                        help='image height and width (default: 256 512)')
    parser.add_argument('--seed', type=int, default=0, help='random seed (default: 0)')
    add_debug_arg(parser)
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    info = generate_cityscapes(args.root, num_train=args.num_train, num_val=args.num_val,
                               image_size=tuple(args.size), seed=args.seed)
    init_default_scope('mmseg')
    for split in ('train', 'val'):
        dataset = CityscapesDataset(data_root=info['root'], pipeline=[], data_prefix=dict(
            img_path=f'leftImg8bit/{split}', seg_map_path=f'gtFine/{split}'))
        check_dataset_files(dataset)
        print(f'{split}: {len(dataset)} images ({args.size[0]}x{args.size[1]}) in '
              f'{info[f"{split}_img_dir"]}, label maps in {info[f"{split}_seg_map_dir"]}')
    return info


if __name__ == '__main__':
    run_tool(main)
