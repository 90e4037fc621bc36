"""Check an exported sparse backbone against a task model's PyTorch backbone.

    python tools/deployment/verify_onnx.py CONFIG CHECKPOINT FILE.onnx --sparsity JSON
        [--threads N] [--report FILE.json]

Refuses a file exported for another configuration than ``--sparsity`` (it records its
configuration, input shape and whether the neck is included); then runs the checks of
``export_onnx.py --verify``: ONNX Runtime against PyTorch on random and real-looking
input, and latency against the same model exported dense. The checkpoint must hold the
weights the file was exported with (``export_onnx.py --verify`` checks a file exported
from random weights).
Needs the ``deploy`` extra.
"""
import argparse

from sparsevit.deployment import (DeploymentError, OnnxBackbone, input_normalization,
                                  load_sparse_backbone, model_neck, require_packages, verify_file)
from sparsevit.presets import sparsity_argument
from sparsevit.utils import add_onnx_check_args, run_tool, write_report


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint', help='the weights the file was exported with')
    parser.add_argument('onnx', metavar='FILE.onnx')
    parser.add_argument('--sparsity', required=True,
                        help='the configuration the file must hold: JSON, a name or a JSON file')
    add_onnx_check_args(parser)
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    require_packages('onnx', 'onnxruntime')
    with_neck = OnnxBackbone(args.onnx).parts == 'backbone+neck'
    model, backbone = load_sparse_backbone(args.config, args.checkpoint)
    backbone.sparsity = sparsity_argument(args.sparsity, len(backbone.depths))
    result = verify_file(backbone, args.onnx, *input_normalization(model), args.threads,
                         args.warmup, args.runs,
                         neck=model_neck(model, args.config) if with_neck else None,
                         logger=None)  # print the checks
    write_report(result, args.report)
    return result


if __name__ == '__main__':
    run_tool(main, (DeploymentError, ))
