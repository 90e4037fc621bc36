# Fine-tune the SAA model with one fixed layerwise sparsity for 36 epochs at lr 1e-5.
# Children (and tools/search.py) set model.backbone.sparsity.
_base_ = './mask-rcnn_sparse-swin-t-p4-w7_fpn_ms-crop-3x_coco.py'

load_from = 'work_dirs/mask-rcnn_sparse-swin-t-p4-w7_fpn_saa-1x_coco/epoch_12.pth'
model = dict(backbone=dict(init_cfg=None))

optim_wrapper = dict(optimizer=dict(lr=1e-5))
default_hooks = dict(checkpoint=dict(interval=1, max_keep_ckpts=2))
