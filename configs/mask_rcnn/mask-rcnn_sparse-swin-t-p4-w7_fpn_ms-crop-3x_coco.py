# Dense baseline: mmdet's Swin-T Mask R-CNN (multi-scale crop, 36 epochs) with the sparse
# backbone at ratio 0 (identical outputs to mmdet's SwinTransformer), tested at 672 x 672.
_base_ = 'mmdet::swin/mask-rcnn_swin-t-p4-w7_fpn_ms-crop-3x_coco.py'
custom_imports = dict(imports=['sparsevit'], allow_failed_imports=False)

model = dict(backbone=dict(type='SparseSwinTransformer', sparsity=None))

# SparseViT evaluates at a fixed 672 x 672 input (aspect ratio not kept)
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args={{_base_.backend_args}}),
    dict(type='Resize', scale=(672, 672), keep_ratio=False),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(
        type='PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

# checkpoints are written atomically: a run killed while saving keeps the previous ones
default_hooks = dict(checkpoint=dict(backend_args=dict(backend='atomic_local')))
custom_hooks = [dict(type='DataFilesCheckHook')]
