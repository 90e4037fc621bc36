"""Export the sparse backbone of a task model to ONNX at a fixed sparsity and input shape.

    python tools/deployment/export_onnx.py CONFIG [CHECKPOINT] --sparsity JSON --shape H W
        [--batch N] --out FILE.onnx [--with-neck] [--verify] [--threads N]
        [--report FILE.json]

The window selection stays inside the graph: which windows are kept still depends on
the image; the configuration and the input shape are fixed (recorded in the file, and
tools/deployment/verify_onnx.py or ``sparsevit.deployment.OnnxBackbone`` refuse any
other). ``--sparsity`` takes JSON, a name (uniform-0.6, searched-0.6) or a JSON file
such as a search's best.json. ``--with-neck`` exports the backbone followed by the
task model's neck (mmdet's FPN, BEVDet's image neck). ``--verify`` compares ONNX
Runtime with PyTorch on random and real-looking input (max abs diff <= 1e-4,
identical kept windows) and times the file against the same model exported dense,
round-robin in one run.
Needs the ``deploy`` extra (onnx, onnxruntime).
"""
import argparse

from sparsevit.deployment import (DeploymentError, export_onnx, input_normalization,
                                  load_sparse_backbone, model_neck, require_packages, verify_file)
from sparsevit.deployment.onnx_export import DEFAULT_OPSET
from sparsevit.presets import sparsity_argument
from sparsevit.utils import add_onnx_check_args, run_tool, write_report


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint', nargs='?', help='weights (default: random)')
    parser.add_argument('--sparsity', required=True,
                        help='JSON, a name (uniform-0.6, searched-0.6) or a JSON file')
    parser.add_argument('--shape', type=int, nargs=2, required=True, metavar=('H', 'W'),
                        help='backbone input height and width (after resize and padding)')
    parser.add_argument('--batch', type=int, default=1,
                        help='images per forward (6 for one six-camera BEVDet sample)')
    parser.add_argument('--out', required=True, help='the .onnx file to write')
    parser.add_argument('--with-neck', action='store_true',
                        help="export the backbone followed by the model's neck")
    parser.add_argument('--opset', type=int, default=DEFAULT_OPSET)
    parser.add_argument('--verify', action='store_true',
                        help='compare with PyTorch and time against the dense export')
    add_onnx_check_args(parser)
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    require_packages('onnx', *(['onnxruntime'] if args.verify else []))
    model, backbone = load_sparse_backbone(args.config, args.checkpoint)
    backbone.sparsity = sparsity_argument(args.sparsity, len(backbone.depths))
    neck = model_neck(model, args.config) if args.with_neck else None
    print(f'exporting the {"backbone and neck" if neck else "backbone"} of {args.config} at '
          f'sparsity {backbone.sparsity}, input ({args.batch}, {backbone.in_channels}, '
          f'{args.shape[0]}, {args.shape[1]})', flush=True)
    metadata = export_onnx(backbone, args.out, args.batch, *args.shape, opset=args.opset,
                           neck=neck)
    print(f'wrote {args.out}: outputs {", ".join(metadata["outputs"])}', flush=True)
    result = dict(file=args.out, **metadata)
    if args.verify:
        result.update(verify_file(backbone, args.out, *input_normalization(model), args.threads,
                                  args.warmup, args.runs, neck=neck,
                                  logger=None))  # print the checks
    write_report(result, args.report)
    return result


if __name__ == '__main__':
    run_tool(main, (DeploymentError, ))
