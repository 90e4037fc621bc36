# Fine-tuning of the SAA BEVDet-Tiny at one fixed layerwise sparsity, then testing at it. The
# sparsity is the searched COCO configuration of docs/method.md, section 7, an example to replace
# by the result of tools/search.py on nuScenes (fitness NDS; --latency-batch 6 --latency-shape
# 256 704 for one six-camera sample), which writes a config like this one.
_base_ = './bevdet-tiny_sparse-swin-t_8xb8-24e_nus-3d.py'

load_from = 'work_dirs/bevdet-tiny_sparse-swin-t_8xb8-saa-8e_nus-3d/epoch_8.pth'
model = dict(img_backbone=dict(init_cfg=None,
                               sparsity=[0.6, 0.0, [0.2, 0.2, 0.4, 0.4, 0.5, 0.5], 0.0]))
optim_wrapper = dict(optimizer=dict(lr=2e-5))
find_unused_parameters = True
