# Fine-tuning of one searched configuration of the demo model (tools/demo.sh sets load_from
# to the SAA checkpoint and model.backbone.sparsity to the search's best).
_base_ = './mask-rcnn_swin-mini-p4-w7_fpn_demo-coco.py'

max_iters = 100
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
param_scheduler = [
    dict(type='CosineAnnealingLR', by_epoch=False, begin=0, end=max_iters, eta_min=1e-5)]
optim_wrapper = dict(optimizer=dict(lr=1e-4))
default_hooks = dict(checkpoint=dict(interval=max_iters))
