# mmseg's Mask2Former Swin-T on Cityscapes with the sparse backbone (dense at ratio 0).
# Mask2Former's pixel decoder and transformer decoder come from mmdet; on CPU, mmcv's
# multi-scale deformable attention runs its PyTorch implementation.
_base_ = 'mmseg::mask2former/mask2former_swin-t_8xb2-90k_cityscapes-512x1024.py'
custom_imports = dict(imports=['sparsevit'], allow_failed_imports=False)

model = dict(backbone=dict(type='SparseSwinTransformer', sparsity=[0.0, 0.0, 0.0, 0.0]))
custom_hooks = [dict(type='DataFilesCheckHook')]
