# Fine-tuning of the SAA model at one fixed layerwise sparsity (docs/method.md, section 5, last
# step), then training and testing at that sparsity. tools/search.py writes a config like this one
# with the configuration it found; the sparsity below is the searched COCO configuration of
# docs/method.md, section 7, an example to replace by your own search result on Cityscapes.
_base_ = './upernet_sparse-swin-t-p4-w7_4xb2-80k_cityscapes-512x1024.py'

load_from = 'work_dirs/upernet_sparse-swin-t-p4-w7_4xb2-saa-30k_cityscapes-512x1024/iter_30000.pth'  # noqa
model = dict(backbone=dict(init_cfg=None, sparsity=[0.6, 0.0, [0.2, 0.2, 0.4, 0.4, 0.5, 0.5], 0.0]))

optim_wrapper = dict(optimizer=dict(lr=6e-6))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=1000),
    dict(type='PolyLR', eta_min=0.0, power=1.0, begin=1000, end=80000, by_epoch=False)
]
find_unused_parameters = True
