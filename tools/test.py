"""Test a checkpoint with an OpenMMLab config (mmdet, mmseg or mmdet3d) and the SparseViT plugin.

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--sparsity JSON] [--out FILE.pkl]
    bash tools/dist_test.sh CONFIG CHECKPOINT GPUS [same options]

``--sparsity`` tests another layerwise configuration than the config's, e.g.
``--sparsity "[0.6, 0, [0.2, 0.2, 0.4, 0.4, 0.5, 0.5], 0]"``.
"""
import argparse
import json

from mmengine.evaluator import DumpResults
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

import sparsevit  # noqa: F401  registers the plugin, allows loading mmengine checkpoints
from sparsevit.utils import add_runner_args, load_config, parse_runner_args, setup_cpu_distributed


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test a checkpoint (SparseViT plugin loaded)')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='where logs and metrics go')
    parser.add_argument('--sparsity', type=json.loads,
                        help='layerwise sparsity to test, as JSON (default: the config\'s)')
    parser.add_argument('--out', help='also dump the raw predictions to this .pkl file')
    add_runner_args(parser, 'test_dataloader.batch_size=4')
    return parse_runner_args(parser, argv)


def apply_sparsity(cfg, sparsity) -> None:
    """Test with ``sparsity``: in the backbone config and in any SAA hook."""
    backbone = cfg.model.get('img_backbone', cfg.model.get('backbone'))
    if backbone is None or backbone.get('type') != 'SparseSwinTransformer':
        raise ValueError('--sparsity needs a model with a SparseSwinTransformer backbone, '
                         f'found {backbone}')
    backbone.sparsity = sparsity
    for hook in cfg.get('custom_hooks', []):
        if hook.get('type') == 'SparsityAdaptationHook':
            hook.eval_sparsity = sparsity


def main(argv=None) -> dict:
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options, args.work_dir)
    cfg.launcher = args.launcher
    setup_cpu_distributed(cfg)
    cfg.load_from = args.checkpoint
    if args.sparsity is not None:
        apply_sparsity(cfg, args.sparsity)
    runner = RUNNERS.build(cfg) if 'runner_type' in cfg else Runner.from_cfg(cfg)
    if args.out:
        runner.test_evaluator.metrics.append(DumpResults(out_file_path=args.out))
    return runner.test()


if __name__ == '__main__':
    main()
