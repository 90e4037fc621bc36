# Sparsity-aware adaptation of the dense Mask2Former (docs/method.md, section 4): a tenth of the
# learning rate, a sampled layerwise sparsity in every iteration, dense validation.
_base_ = [
    './mask2former_sparse-swin-t_8xb2-90k_cityscapes-512x1024.py',
    '../_base_/sparsity_adaptation.py'
]

load_from = 'work_dirs/mask2former_sparse-swin-t_8xb2-90k_cityscapes-512x1024/iter_90000.pth'
model = dict(backbone=dict(init_cfg=None))

max_iters = 30000
train_cfg = dict(max_iters=max_iters, val_interval=5000)
optim_wrapper = dict(optimizer=dict(lr=1e-5))
param_scheduler = [
    dict(type='PolyLR', eta_min=0, power=0.9, begin=0, end=max_iters, by_epoch=False)
]
default_hooks = dict(checkpoint=dict(interval=5000, max_keep_ckpts=2))
find_unused_parameters = True

custom_hooks = _base_.custom_hooks + [_base_.sparsity_adaptation_hook]
