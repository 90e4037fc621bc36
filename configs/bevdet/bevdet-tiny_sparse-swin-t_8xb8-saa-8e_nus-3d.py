# Sparsity-aware adaptation of the dense BEVDet-Tiny (docs/method.md, section 4): a tenth of the
# learning rate, a third of the schedule, a sampled layerwise sparsity in every iteration
# (windows are then pruned per camera image), dense validation.
_base_ = ['./bevdet-tiny_sparse-swin-t_8xb8-24e_nus-3d.py', '../_base_/sparsity_adaptation.py']

load_from = 'work_dirs/bevdet-tiny_sparse-swin-t_8xb8-24e_nus-3d/epoch_24.pth'
model = dict(img_backbone=dict(init_cfg=None))
max_epochs = 8
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
optim_wrapper = dict(optimizer=dict(lr=2e-5))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=200),
    dict(type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True, milestones=[max_epochs],
         gamma=0.1)
]
find_unused_parameters = True
custom_hooks = _base_.custom_hooks + [_base_.sparsity_adaptation_hook]
