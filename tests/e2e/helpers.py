"""Shared pieces of the end-to-end tests: demo data configs and a hook that records sparsity."""
import json
import os
from pathlib import Path

import torch.distributed as dist
from mmengine.hooks import Hook
from mmengine.registry import HOOKS

from sparsevit import get_sparsity

from ..helpers import REPO, load_tool


@HOOKS.register_module()
class SparsityRecorderHook(Hook):
    """Records the configuration the model holds in every train and test iteration."""

    priority = 'LOW'  # after SparsityAdaptationHook has applied its sample

    def __init__(self, out_file: str = ''):
        self.out_file = out_file
        self.train, self.test = [], []

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        self.train.append([runner.iter, get_sparsity(runner.model)])

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        assert get_sparsity(runner.model) == self.train[-1][1]  # not changed mid-iteration

    def before_test_iter(self, runner, batch_idx, data_batch=None):
        self.test.append(get_sparsity(runner.model))

    def after_run(self, runner):
        if self.out_file:
            rank = dist.get_rank() if dist.is_initialized() else 0
            Path(f'{self.out_file}.rank{rank}').write_text(
                json.dumps(dict(train=self.train, test=self.test)))


def mask_rcnn_demo_config(path: Path, base: str, data_root: Path, max_iters: int = 4,
                          extra: str = '') -> Path:
    """A child config of ``base`` that trains and tests on the generated demo COCO data."""
    path.write_text(f'''
_base_ = {str(REPO / 'configs' / 'mask_rcnn' / base)!r}
custom_imports = dict(imports=['sparsevit'], allow_failed_imports=False)
data_root = {str(data_root) + '/'!r}
metainfo = dict(classes=('square', 'disk', 'triangle'))
load_from = None
model = dict(backbone=dict(init_cfg=None, drop_path_rate=0.1),
             roi_head=dict(bbox_head=dict(num_classes=3), mask_head=dict(num_classes=3)))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='RandomChoiceResize', scales=[(160, 160), (192, 192)], keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(160, 160), keep_ratio=False),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]
train_dataloader = dict(
    batch_size=2, num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data_root, metainfo=metainfo, pipeline=train_pipeline,
                 filter_cfg=dict(filter_empty_gt=True, min_size=4)))
val_dataloader = dict(
    batch_size=1, num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data_root, metainfo=metainfo, pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/instances_val2017.json')
test_evaluator = val_evaluator
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters={max_iters},
                 val_interval=1000)
param_scheduler = []
default_hooks = dict(checkpoint=dict(by_epoch=False, interval=2),
                     logger=dict(interval=1))
log_processor = dict(by_epoch=False)
{extra}
''')
    return path


def distributed_worker(rank: int, world_size: int, config: str, work_dir: str, port: int,
                       record: str) -> None:
    """One rank of a 2-process CPU run of tools/train.py; ranks seed their samplers differently."""
    from sparsevit import SparsityAdaptationHook
    os.environ.update(RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(world_size),
                      MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    train = load_tool('train')
    runner = train.build_runner(train.parse_args(
        [config, '--work-dir', work_dir, '--launcher', 'pytorch']))
    runner.register_hook(SparsityRecorderHook(record))
    for hook in runner.hooks:
        if isinstance(hook, SparsityAdaptationHook):
            hook.seed = 1 + 7919 * rank  # only the broadcast can make the ranks agree
    runner.train()
