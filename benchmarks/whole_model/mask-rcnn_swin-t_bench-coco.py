# Whole-model latency of Mask R-CNN (benchmarks/latency.md): the dense Swin-T Mask R-CNN config,
# trained for 80 iterations on generated COCO-format shapes at 672x672, so that its heads see
# the proposals and detections of a trained model, not of random weights.
_base_ = '../../configs/mask_rcnn/mask-rcnn_sparse-swin-t-p4-w7_fpn_ms-crop-3x_coco.py'

data_root = 'data/bench_coco/'
metainfo = dict(classes=('square', 'disk', 'triangle'))
load_from = None
model = dict(backbone=dict(init_cfg=None),
             roi_head=dict(bbox_head=dict(num_classes=3), mask_head=dict(num_classes=3)))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='Resize', scale=(672, 672), keep_ratio=False),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
train_dataloader = dict(
    batch_size=2, num_workers=0, persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(data_root=data_root, metainfo=metainfo, pipeline=train_pipeline))
val_dataloader = dict(batch_size=1, num_workers=0, persistent_workers=False,
                      dataset=dict(data_root=data_root, metainfo=metainfo))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/instances_val2017.json')
test_evaluator = val_evaluator
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=80, val_interval=1000)
param_scheduler = [dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=10)]
optim_wrapper = dict(optimizer=dict(lr=2e-4))
default_hooks = dict(checkpoint=dict(by_epoch=False, interval=80), logger=dict(interval=10))
log_processor = dict(by_epoch=False)
