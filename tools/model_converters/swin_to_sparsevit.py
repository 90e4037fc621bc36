"""Convert a Swin Transformer checkpoint (original release or timm) for SparseViT / mmdet.

The output holds ``{'state_dict': {'backbone.' + name: tensor}, 'meta': ...}``
with the parameter names of mmdet's ``SwinTransformer``, so that
``init_cfg=dict(type='Pretrained', checkpoint=DST)`` of ``SparseSwinTransformer``
(and of mmdet's ``SwinTransformer``) loads it without ``convert_weights``.

Example::

    python tools/model_converters/swin_to_sparsevit.py \\
        swin_tiny_patch4_window7_224.pth swin-t_sparsevit.pth
"""
import argparse
import os.path as osp
import pickle
import sys

import torch

from sparsevit.fileio import atomic_torch_save
from sparsevit.models.backbones.swin_converter import convert_swin_state_dict, detect_swin_layout
from sparsevit.utils.cli import add_debug_arg, debugging

SOURCE_LAYOUTS = ('original', 'timm')


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('src', help='Swin checkpoint: .pth/.pth.tar (any wrapping in '
                        "'model'/'state_dict'/'module.') or .safetensors")
    parser.add_argument('dst', help='where to save the converted checkpoint')
    parser.add_argument('--layout', choices=SOURCE_LAYOUTS,
                        help='layout of SRC (default: detected from its keys)')
    parser.add_argument('--unsafe-load', action='store_true',
                        help='allow full unpickling of SRC when it holds more than tensors '
                        '(it can run code: only for files you trust)')
    add_debug_arg(parser)
    return parser.parse_args(argv)


def load_source(path: str, unsafe: bool = False) -> dict:
    """Read ``path`` on the CPU: weights-only, unless ``unsafe`` allows full unpickling."""
    if path.endswith('.safetensors'):
        from safetensors.torch import load_file
        return load_file(path, device='cpu')
    try:
        return torch.load(path, map_location='cpu', weights_only=True)
    except pickle.UnpicklingError as err:
        if not unsafe or 'weights only load failed' not in str(err).lower():
            raise
        print(f'warning: loading {path} with full unpickling (--unsafe-load)', file=sys.stderr)
        return torch.load(path, map_location='cpu', weights_only=False)


def main(argv=None) -> int:
    args = parse_args(argv)
    if not osp.isfile(args.src):
        print(f'error: source checkpoint {args.src} does not exist', file=sys.stderr)
        return 1
    try:
        source = load_source(args.src, args.unsafe_load)
    except pickle.UnpicklingError as err:
        if debugging():
            raise
        hint = ('; if you trust the file, --unsafe-load reads it with full unpickling'
                if 'weights only load failed' in str(err).lower() else '')
        print(f'error: cannot read {args.src} safely: {str(err).splitlines()[0]}{hint}',
              file=sys.stderr)
        return 1
    except Exception as err:  # torch.load raises many types on a file it cannot parse
        if debugging():
            raise
        print(f'error: cannot read {args.src} as a checkpoint: {type(err).__name__}: {err}',
              file=sys.stderr)
        return 1
    try:
        layout = args.layout or detect_swin_layout(source)
        state = convert_swin_state_dict(source, layout)
    except ValueError as err:
        if debugging():
            raise
        print(f'error: cannot convert {args.src}: {err}', file=sys.stderr)
        return 1
    if layout == 'mmdet':
        print(f'note: {args.src} already has the names of mmdet\'s SwinTransformer; '
              'writing its backbone tensors as they are')
    checkpoint = {
        'state_dict': {'backbone.' + k: v for k, v in state.items()},
        'meta': {'converted_from': args.src, 'layout': layout},
    }
    atomic_torch_save(checkpoint, args.dst)
    print(f'wrote {len(state)} tensors ({layout} layout) to {args.dst}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
