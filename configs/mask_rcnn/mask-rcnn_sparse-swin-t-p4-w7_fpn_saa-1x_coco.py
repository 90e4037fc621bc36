# Sparsity-aware adaptation (docs/method.md, section 4): fine-tune the dense model for 12 epochs
# at one tenth of its learning rate while every iteration samples a new layerwise sparsity.
_base_ = [
    './mask-rcnn_sparse-swin-t-p4-w7_fpn_ms-crop-3x_coco.py',
    '../_base_/sparsity_adaptation.py'
]

# the dense Swin-T Mask R-CNN released by mmdet (or your own dense checkpoint)
load_from = 'https://download.openmmlab.com/mmdetection/v2.0/swin/mask_rcnn_swin-t-p4-w7_fpn_ms-crop-3x_coco/mask_rcnn_swin-t-p4-w7_fpn_ms-crop-3x_coco_20210906_131725-bacf6f7b.pth'  # noqa
model = dict(backbone=dict(init_cfg=None))

max_epochs = 12
train_cfg = dict(max_epochs=max_epochs)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=1000),
    dict(type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True, milestones=[8, 11],
         gamma=0.1)
]
optim_wrapper = dict(optimizer=dict(lr=1e-5))
default_hooks = dict(checkpoint=dict(interval=1, max_keep_ckpts=2))
# a high ratio on a small image can prune every window of a late block: its parameters
# then get no gradient in that iteration
find_unused_parameters = True

custom_hooks = _base_.custom_hooks + [_base_.sparsity_adaptation_hook]
