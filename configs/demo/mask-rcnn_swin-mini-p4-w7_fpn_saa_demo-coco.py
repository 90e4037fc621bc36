# Sparsity-aware adaptation of the demo model: a new layerwise configuration every iteration,
# starting from the dense demo model (tools/demo.sh sets load_from).
_base_ = ['./mask-rcnn_swin-mini-p4-w7_fpn_demo-coco.py', '../_base_/sparsity_adaptation.py']

max_iters = 150
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
param_scheduler = [
    dict(type='CosineAnnealingLR', by_epoch=False, begin=0, end=max_iters, eta_min=1e-5)]
optim_wrapper = dict(optimizer=dict(lr=2e-4))
default_hooks = dict(checkpoint=dict(interval=max_iters))
custom_hooks = _base_.custom_hooks + [
    dict(_base_.sparsity_adaptation_hook, log_interval=25)]
