"""Shared pieces of the end-to-end tests: demo data configs and a hook that records sparsity."""
import json
import os
import subprocess
from pathlib import Path

import torch.distributed as dist
from mmengine.hooks import Hook
from mmengine.registry import HOOKS

from sparsevit import get_sparsity

from ..helpers import REPO, load_tool, mim_command, small_bevdet


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


def recorded_saa_hooks(record: Path, seed: int) -> str:
    """A ``custom_hooks`` line: data check, SAA seeded with ``seed``, recorder to ``record``."""
    return (f"custom_hooks = [dict(type='DataFilesCheckHook'), "
            f"dict(type='SparsityAdaptationHook', seed={seed}), "
            f"dict(type='SparsityRecorderHook', out_file={str(record)!r})]\n")


def read_record(record: Path, rank: int = 0) -> dict:
    """What :class:`SparsityRecorderHook` wrote to ``record`` on ``rank``: train and test lists."""
    return json.loads(Path(f'{record}.rank{rank}').read_text())


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
{_short_schedule(max_iters)}
{extra}
''')
    return path


def _short_schedule(max_iters: int) -> str:
    """Config lines of an iteration-based run of ``max_iters``, a checkpoint every 2."""
    return f'''
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters={max_iters},
                 val_interval=1000)
param_scheduler = []
default_hooks = dict(checkpoint=dict(by_epoch=False, interval=2),
                     logger=dict(interval=1))
log_processor = dict(by_epoch=False)
'''


def cityscapes_demo_config(path: Path, base: str, data_root: Path, max_iters: int = 4,
                           extra: str = '') -> Path:
    """A child config of ``base`` (under configs/) on generated 128x256 Cityscapes data."""
    path.write_text(f'''
_base_ = {str(REPO / 'configs' / base)!r}
custom_imports = dict(imports=['sparsevit'], allow_failed_imports=False)
data_root = {str(data_root) + '/'!r}
crop_size = (128, 128)
load_from = None
model = dict(data_preprocessor=dict(size=crop_size), backbone=dict(init_cfg=None))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomResize', scale=(256, 128), ratio_range=(0.75, 1.25), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(256, 128), keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False,
                        dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(batch_size=1, num_workers=0, persistent_workers=False,
                      dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
{_short_schedule(max_iters)}
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


def mim_train_and_test(package: str, config: Path, work_dir: Path,
                       checkpoint: str) -> tuple[str, str]:
    """The output of ``mim train PACKAGE CONFIG``, then of ``mim test`` of its ``checkpoint``."""
    mim = mim_command()
    outputs = []
    for command in (['train', package, str(config), '--work-dir', str(work_dir)],
                    ['test', package, str(config), '--checkpoint', str(work_dir / checkpoint),
                     '--work-dir', str(work_dir)]):
        done = subprocess.run([mim, *command], check=True, cwd=work_dir.parent,
                              capture_output=True, text=True)
        outputs.append(done.stdout + done.stderr)
    return outputs[0], outputs[1]


def nuscenes_demo_config(path: Path, base: str, data_root: Path, max_iters: int = 3,
                         extra: str = '') -> Path:
    """A child of ``base`` (under configs/): a small BEVDet on generated 90x160 nuScenes data.

    The model is ``base``'s at small widths, the pipelines are ``base``'s at 64x176 images
    (nuScenes' 900x1600 cropped to 256x704, at a quarter).
    """
    model = small_bevdet((64, 176))
    model['bbox_head']['bbox_coder'].update(score_threshold=0.05)
    model['test_cfg'].update(score_threshold=0.05)
    path.write_text(f'''
_base_ = {str(REPO / 'configs' / base)!r}
custom_imports = dict(imports=['sparsevit', 'sparsevit.bevdet'],
                      allow_failed_imports=False)
data_root = {str(data_root) + '/'!r}
image_size = {model['view_transformer']['image_size']!r}
metainfo = dict(_base_.metainfo, version='v1.0-mini')
load_from = None
randomness = dict(seed=0)  # a run with a random seed may end with no box above the threshold
model = {model!r}
train_pipeline = [dict(step, final_size=image_size) if step.type == 'MultiViewImageAug' else step
                  for step in _base_.train_pipeline]
test_pipeline = [dict(step, final_size=image_size) if step.type == 'MultiViewImageAug' else step
                 for step in _base_.test_pipeline]
train_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False,
                        dataset=dict(data_root=data_root, metainfo=metainfo,
                                     pipeline=train_pipeline))
val_dataloader = dict(batch_size=1, num_workers=0, persistent_workers=False,
                      dataset=dict(data_root=data_root, metainfo=metainfo,
                                   pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(data_root=data_root, ann_file=data_root + 'nuscenes_infos_val.pkl')
test_evaluator = val_evaluator
{_short_schedule(max_iters)}
{extra}
''')
    return path
