# Sparsity-aware adaptation (docs/method.md, section 4) of the dense UperNet: one tenth of its
# learning rate while every iteration samples a new layerwise sparsity. The paper gives the COCO
# recipe only; this carries its proportions (a tenth of the rate, about a third of the schedule).
_base_ = [
    './upernet_sparse-swin-t-p4-w7_4xb2-80k_cityscapes-512x1024.py',
    '../_base_/sparsity_adaptation.py'
]

# the dense model trained with the base config (or your own dense checkpoint)
load_from = 'work_dirs/upernet_sparse-swin-t-p4-w7_4xb2-80k_cityscapes-512x1024/iter_80000.pth'
model = dict(backbone=dict(init_cfg=None))

max_iters = 30000
train_cfg = dict(max_iters=max_iters, val_interval=5000)
optim_wrapper = dict(optimizer=dict(lr=6e-6))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=1000),
    dict(type='PolyLR', eta_min=0.0, power=1.0, begin=1000, end=max_iters, by_epoch=False)
]
default_hooks = dict(checkpoint=dict(interval=5000, max_keep_ckpts=2))
# a high ratio can prune every window of a late block: its parameters then get no gradient
find_unused_parameters = True

custom_hooks = _base_.custom_hooks + [_base_.sparsity_adaptation_hook]
