# Whole-model latency of BEVDet-Tiny (benchmarks/latency.md): the dense config at its six
# 256x704 cameras, trained for 40 iterations on generated nuScenes-format data, so that its
# CenterHead decodes and suppresses the boxes of a trained model, not of random weights.
_base_ = '../../configs/bevdet/bevdet-tiny_sparse-swin-t_8xb8-24e_nus-3d.py'

data_root = 'data/bench_nuscenes/'
metainfo = dict(classes={{_base_.class_names}}, version='v1.0-mini')
load_from = None
model = dict(img_backbone=dict(init_cfg=None))
train_dataloader = dict(
    batch_size=2, num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data_root, metainfo=metainfo))
val_dataloader = dict(batch_size=1, num_workers=0, persistent_workers=False,
                      dataset=dict(data_root=data_root, metainfo=metainfo))
test_dataloader = val_dataloader
val_evaluator = dict(data_root=data_root, ann_file=data_root + 'nuscenes_infos_val.pkl')
test_evaluator = val_evaluator
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=40, val_interval=1000)
param_scheduler = [dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=10)]
default_hooks = dict(checkpoint=dict(by_epoch=False, interval=40), logger=dict(interval=10))
log_processor = dict(by_epoch=False)
