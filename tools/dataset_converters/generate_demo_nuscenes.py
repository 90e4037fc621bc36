"""Write the synthetic nuScenes-format dataset and its mmdet3d info files.

The result has the layout of nuScenes ``v1.0-mini`` (devkit tables, six camera
images and a LiDAR sweep per key frame) plus ``nuscenes_infos_{train,val}.pkl``
written by mmdet3d's own converter. Point a BEVDet config at it with
``metainfo=dict(version='v1.0-mini')``.

Example::

    python tools/dataset_converters/generate_demo_nuscenes.py data/demo_nuscenes \
        --samples-per-scene 4 --objects-per-scene 12 --size 225 400
"""
import argparse

from sparsevit.demo.synthetic_nuscenes import generate_nuscenes, write_nuscenes_infos
from sparsevit.utils.cli import add_debug_arg, run_tool


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('root', help='dataset directory to write (created if needed)')
    parser.add_argument('--samples-per-scene', type=int, default=4, help='key frames per scene')
    parser.add_argument('--objects-per-scene', type=int, default=12, help='boxes per scene')
    parser.add_argument('--size', type=int, nargs=2, default=(225, 400), metavar=('H', 'W'),
                        help='camera image height and width (default: 225 400)')
    parser.add_argument('--seed', type=int, default=0, help='random seed (default: 0)')
    add_debug_arg(parser)
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    info = generate_nuscenes(args.root, args.samples_per_scene, args.objects_per_scene,
                             tuple(args.size), args.seed)
    print(f'{info["version"]} tables, images and LiDAR sweeps in {info["root"]}: '
          f'{info["num_samples"]["train"]} train / {info["num_samples"]["val"]} val samples',
          flush=True)
    info['infos'] = write_nuscenes_infos(args.root)
    for split, path in info['infos'].items():
        print(f'{split} infos (mmdet3d v2): {path}')
    return info


if __name__ == '__main__':
    run_tool(main)
