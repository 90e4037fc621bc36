# Dense Swin-T UperNet on Cityscapes with the sparse backbone at ratio 0 (exactly mmseg's Swin):
# trained on 512x1024 crops, tested on the full 1024x2048 image (whole-image inference).
_base_ = [
    'mmseg::_base_/models/upernet_swin.py', 'mmseg::_base_/datasets/cityscapes.py',
    'mmseg::_base_/default_runtime.py', 'mmseg::_base_/schedules/schedule_80k.py'
]
custom_imports = dict(imports=['sparsevit'], allow_failed_imports=False)

crop_size = (512, 1024)
# ImageNet-1k Swin-T in mmseg's key layout (as mmseg's own Swin configs)
pretrained = 'https://download.openmmlab.com/mmsegmentation/v0.5/pretrain/swin/swin_tiny_patch4_window7_224_20220317-1cdeb081.pth'  # noqa
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(
        type='SparseSwinTransformer',
        sparsity=[0.0, 0.0, 0.0, 0.0],
        embed_dims=96,
        depths=[2, 2, 6, 2],
        num_heads=[3, 6, 12, 24],
        window_size=7,
        use_abs_pos_embed=False,
        drop_path_rate=0.3,
        patch_norm=True,
        init_cfg=dict(type='Pretrained', checkpoint=pretrained)),
    decode_head=dict(in_channels=[96, 192, 384, 768], num_classes=19),
    auxiliary_head=dict(in_channels=384, num_classes=19),
    test_cfg=dict(mode='whole'))

# AdamW as mmseg's Swin recipes; no weight decay on position tables and norms
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=6e-5, betas=(0.9, 0.999), weight_decay=0.01),
    paramwise_cfg=dict(custom_keys={
        'absolute_pos_embed': dict(decay_mult=0.),
        'relative_position_bias_table': dict(decay_mult=0.),
        'norm': dict(decay_mult=0.)
    }))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0, end=1500),
    dict(type='PolyLR', eta_min=0.0, power=1.0, begin=1500, end=80000, by_epoch=False)
]
# 4 GPUs x 2 images
train_dataloader = dict(batch_size=2)
val_dataloader = dict(batch_size=1)
test_dataloader = val_dataloader
auto_scale_lr = dict(enable=False, base_batch_size=8)
custom_hooks = [dict(type='DataFilesCheckHook')]
