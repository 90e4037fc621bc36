"""Train a model from an OpenMMLab config (mmdet, mmseg or mmdet3d) with the SparseViT plugin.

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp] [--cfg-options k=v ...]
    bash tools/dist_train.sh CONFIG GPUS [same options]
"""
import argparse

from mmengine.registry import RUNNERS
from mmengine.runner import Runner

import sparsevit  # noqa: F401  registers the plugin, allows loading mmengine checkpoints
from sparsevit.checkpoint_loading import clear_checkpoint_errors
from sparsevit.utils import (add_runner_args, load_config, parse_runner_args, run_tool,
                             setup_cpu_distributed)
from sparsevit.utils.cli import UsageError, check_data_files_first
from sparsevit.utils.config import unknown_types_as_config_errors


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a model (SparseViT plugin loaded)')
    parser.add_argument('config', help='config file')
    parser.add_argument('--work-dir', help='where logs and checkpoints go')
    parser.add_argument('--resume', nargs='?', const='auto',
                        help='resume from this checkpoint, or without a value from the '
                        'latest checkpoint of the work dir')
    parser.add_argument('--amp', action='store_true', help='automatic mixed precision')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale the learning rate by the actual batch size')
    add_runner_args(parser, 'train_cfg.max_iters=10 '
                    'model.backbone.sparsity="[0.6,0,[0.2,0.2,0.4,0.4,0.5,0.5],0]"')
    return parse_runner_args(parser, argv)


def build_runner(args: argparse.Namespace) -> Runner:
    """The runner of a training run described by the command-line ``args``."""
    cfg = load_config(args.config, args.cfg_options, args.work_dir)
    cfg.launcher = args.launcher
    setup_cpu_distributed(cfg)
    check_data_files_first(cfg)
    if args.amp:
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.loss_scale = 'dynamic'
    if args.auto_scale_lr:
        if 'base_batch_size' not in cfg.get('auto_scale_lr', {}):
            raise UsageError(f'--auto-scale-lr: {args.config} has no auto_scale_lr.base_batch_size '
                             'to scale from')
        cfg.auto_scale_lr.enable = True
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume is not None:
        cfg.resume, cfg.load_from = True, args.resume
    return RUNNERS.build(cfg) if 'runner_type' in cfg else Runner.from_cfg(cfg)


@clear_checkpoint_errors()
def main(argv=None) -> None:
    args = parse_args(argv)
    with unknown_types_as_config_errors(args.config):  # the runner builds parts as it goes
        build_runner(args).train()


if __name__ == '__main__':
    run_tool(main)
