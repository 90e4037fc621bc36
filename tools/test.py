"""Test a checkpoint with an OpenMMLab config (mmdet, mmseg or mmdet3d) and the SparseViT plugin.

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--sparsity JSON] [--out OUT]
        [--show] [--show-dir DIR] [--wait-time S] [--tta]
    bash tools/dist_test.sh CONFIG CHECKPOINT GPUS [same options]

``--sparsity`` tests another layerwise configuration than the config's, e.g.
``--sparsity "[0.6, 0, [0.2, 0.2, 0.4, 0.4, 0.5, 0.5], 0]"``. ``--out`` writes the
predictions in the task's own format: mmdet a ``.pkl`` of compact results (RLE
masks, no ground truth), mmseg a folder of PNG prediction maps, mmdet3d a folder
with the nuScenes result JSON.
"""
import argparse
import json
import os.path as osp

from mmengine.registry import RUNNERS
from mmengine.runner import Runner

import sparsevit  # noqa: F401  registers the plugin, allows loading mmengine checkpoints
from sparsevit.checkpoint_loading import clear_checkpoint_errors
from sparsevit.utils import (add_runner_args, load_config, parse_runner_args, run_tool,
                             setup_cpu_distributed)
from sparsevit.utils.cli import UsageError, check_data_files_first
from sparsevit.utils.config import unknown_types_as_config_errors
from sparsevit.utils.prediction_outputs import (dump_predictions, show_predictions,
                                                use_test_time_augmentation)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test a checkpoint (SparseViT plugin loaded)')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='where logs and metrics go')
    parser.add_argument('--sparsity', type=json.loads,
                        help='layerwise sparsity to test, as JSON (default: the config\'s)')
    parser.add_argument('--out', help='write the predictions: a .pkl (mmdet), a folder of PNG '
                        'maps (mmseg), a folder for the nuScenes JSON (mmdet3d)')
    parser.add_argument('--show', action='store_true', help='show the predictions in a window')
    parser.add_argument('--show-dir', help='save pictures of the predictions here (relative to '
                        'the run\'s log folder)')
    parser.add_argument('--wait-time', type=float, default=2, help='seconds each is shown')
    parser.add_argument('--tta', action='store_true',
                        help='test-time augmentation of the config (tta_model, tta_pipeline)')
    add_runner_args(parser, 'test_dataloader.batch_size=4')
    return parse_runner_args(parser, argv)


def apply_sparsity(cfg, sparsity) -> None:
    """Test with ``sparsity``: in the backbone config and in any SAA hook."""
    backbone = cfg.model.get('img_backbone', cfg.model.get('backbone'))
    if backbone is None or backbone.get('type') != 'SparseSwinTransformer':
        raise UsageError('--sparsity needs a model with a SparseSwinTransformer backbone, '
                         f'found {backbone}')
    backbone.sparsity = sparsity
    for hook in cfg.get('custom_hooks', []):
        if hook.get('type') == 'SparsityAdaptationHook':
            hook.eval_sparsity = sparsity


def apply_output_options(cfg, args: argparse.Namespace):
    """``--show``, ``--show-dir``, ``--tta`` and ``--out``: the metric that dumps the
    predictions, if any; :class:`UsageError` for an option the config cannot serve."""
    try:
        if args.show or args.show_dir:
            show_predictions(cfg, args.show, args.show_dir, args.wait_time)
        if args.tta:
            use_test_time_augmentation(cfg)
        return dump_predictions(cfg, args.out) if args.out else None
    except ValueError as err:  # what these raise: an option the config has nothing for
        raise UsageError(str(err)) from err


@clear_checkpoint_errors()
def main(argv=None) -> dict:
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options, args.work_dir)
    if '://' not in args.checkpoint and not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint {args.checkpoint} does not exist')
    cfg.launcher = args.launcher
    setup_cpu_distributed(cfg)
    check_data_files_first(cfg)
    cfg.load_from = args.checkpoint
    if args.sparsity is not None:
        apply_sparsity(cfg, args.sparsity)
    dump = apply_output_options(cfg, args)
    with unknown_types_as_config_errors(cfg):  # the runner builds parts as it goes
        runner = RUNNERS.build(cfg) if 'runner_type' in cfg else Runner.from_cfg(cfg)
        if dump is not None:
            runner.test_evaluator.metrics.append(dump)
        return runner.test()


if __name__ == '__main__':
    run_tool(main)
