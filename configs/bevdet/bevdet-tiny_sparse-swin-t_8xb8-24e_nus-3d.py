# BEVDet-Tiny on nuScenes with the sparse Swin-T image backbone (dense at ratio 0): six cameras
# at 256x704, Lift-Splat into a 128x128 BEV grid of 0.8 m, CenterPoint head with six task
# groups. Camera-only: the LiDAR sweeps are not read.
_base_ = ['mmdet3d::_base_/default_runtime.py']
custom_imports = dict(imports=['sparsevit', 'sparsevit.bevdet'],
                      allow_failed_imports=False)

class_names = ['car', 'truck', 'construction_vehicle', 'bus', 'trailer', 'barrier', 'motorcycle',
               'bicycle', 'pedestrian', 'traffic_cone']
point_cloud_range = [-51.2, -51.2, -5.0, 51.2, 51.2, 3.0]
voxel_size = [0.1, 0.1, 0.2]  # CenterHead's target grid; the BEV features are 8x coarser
image_size = (256, 704)
bev_grid = dict(grid_x=(-51.2, 51.2, 0.8), grid_y=(-51.2, 51.2, 0.8), grid_z=(-10.0, 10.0, 20.0))
tasks = [
    dict(num_class=1, class_names=['car']),
    dict(num_class=2, class_names=['truck', 'construction_vehicle']),
    dict(num_class=2, class_names=['bus', 'trailer']),
    dict(num_class=1, class_names=['barrier']),
    dict(num_class=2, class_names=['motorcycle', 'bicycle']),
    dict(num_class=2, class_names=['pedestrian', 'traffic_cone']),
]
model = dict(
    type='BEVDet',
    data_preprocessor=dict(type='Det3DDataPreprocessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], bgr_to_rgb=True),
    img_backbone=dict(
        type='SparseSwinTransformer', sparsity=[0.0, 0.0, 0.0, 0.0], embed_dims=96,
        depths=[2, 2, 6, 2], num_heads=[3, 6, 12, 24], window_size=7, mlp_ratio=4,
        qkv_bias=True, drop_path_rate=0.1, patch_norm=True, out_indices=(2, 3),
        convert_weights=True,
        init_cfg=dict(type='Pretrained', checkpoint='https://github.com/SwinTransformer/storage/releases/download/v1.0.0/swin_tiny_patch4_window7_224.pth')),  # noqa
    img_neck=dict(type='ImageFusionNeck', in_channels=(384, 768), out_channels=512),
    view_transformer=dict(type='LiftSplatViewTransformer', in_channels=512, out_channels=64,
                          image_size=image_size, stride=16, depth=(1.0, 60.0, 1.0),
                          **bev_grid),
    bev_backbone=dict(type='BEVResNet', in_channels=64, channels=(128, 256, 512)),
    bev_neck=dict(type='BEVFusionNeck', in_channels=(128, 512), mid_channels=512,
                  out_channels=256),
    bbox_head=dict(
        type='BEVDetCenterHead', in_channels=256, tasks=tasks,
        common_heads=dict(reg=(2, 2), height=(1, 2), dim=(3, 2), rot=(2, 2), vel=(2, 2)),
        share_conv_channel=64,
        bbox_coder=dict(type='CenterPointBBoxCoder', pc_range=point_cloud_range[:2],
                        post_center_range=[-61.2, -61.2, -10.0, 61.2, 61.2, 10.0],
                        max_num=500, score_threshold=0.1, out_size_factor=8,
                        voxel_size=voxel_size[:2], code_size=9),
        separate_head=dict(type='SeparateHead', init_bias=-2.19, final_kernel=3),
        loss_cls=dict(type='mmdet.GaussianFocalLoss', reduction='mean'),
        loss_bbox=dict(type='mmdet.L1Loss', reduction='mean', loss_weight=0.25),
        norm_bbox=True),
    train_cfg=dict(point_cloud_range=point_cloud_range, grid_size=[1024, 1024, 40],
                   voxel_size=voxel_size, out_size_factor=8, dense_reg=1, gaussian_overlap=0.1,
                   max_objs=500, min_radius=2, code_weights=[1.0] * 8 + [0.2, 0.2]),
    # BEVDet-Tiny's test-time NMS per task group: circle NMS for barriers, Scale-NMS (box
    # sizes rescaled per class before the rotated NMS) for the others
    test_cfg=dict(pc_range=point_cloud_range[:2],
                  post_center_limit_range=[-61.2, -61.2, -10.0, 61.2, 61.2, 10.0],
                  max_per_img=500, max_pool_nms=False, min_radius=[4, 12, 10, 1, 0.85, 0.175],
                  score_threshold=0.1, out_size_factor=8, voxel_size=voxel_size[:2],
                  pre_max_size=1000, post_max_size=83,
                  nms_type=['rotate', 'rotate', 'rotate', 'circle', 'rotate', 'rotate'],
                  nms_thr=[0.2, 0.2, 0.2, 0.2, 0.2, 0.5],
                  nms_rescale_factor=[1.0, [0.7, 0.7], [0.4, 0.55], 1.1, [1.0, 1.0], [4.5, 9.0]]))

dataset_type = 'NuScenesV2Dataset'  # mmdet3d's NuScenesDataset; names v1 info files
data_root = 'data/nuscenes/'
metainfo = dict(classes=class_names)  # add version='v1.0-mini' for the mini split
data_prefix = dict(pts='samples/LIDAR_TOP', sweeps='sweeps/LIDAR_TOP',
                   **{cam: f'samples/{cam}' for cam in (
                       'CAM_FRONT', 'CAM_FRONT_RIGHT', 'CAM_FRONT_LEFT', 'CAM_BACK',
                       'CAM_BACK_LEFT', 'CAM_BACK_RIGHT')})
input_modality = dict(use_lidar=False, use_camera=True)
# filename: the six camera images (img_path is the front camera's), for the visualization hook
meta_keys = ('sample_idx', 'token', 'img_path', 'filename', 'ori_shape', 'img_shape', 'box_type_3d',
             'box_mode_3d', 'cam2img', 'lidar2cam', 'img_aug_matrix', 'bev_aug_matrix',
             'num_views', 'ego2global')
# nuScenes images are 900x1600: scaled by 704/1600 x resize, cropped near the bottom
image_aug = dict(type='MultiViewImageAug', final_size=image_size, resize_range=(0.864, 1.25),
                 bottom_crop=(0.0, 0.22), flip_prob=0.5, rotate_range=(-5.4, 5.4))
train_pipeline = [
    dict(type='LoadMultiViewImageFromFiles', to_float32=True, num_views=6),
    image_aug,
    dict(type='LoadAnnotations3D', with_bbox_3d=True, with_label_3d=True),
    dict(type='BEVAug', rotate_range=(-22.5, 22.5), scale_range=(0.95, 1.05)),
    dict(type='ObjectRangeFilter', point_cloud_range=point_cloud_range),
    dict(type='ObjectNameFilter', classes=class_names),
    dict(type='Pack3DDetInputs', keys=['img', 'gt_bboxes_3d', 'gt_labels_3d'],
         meta_keys=meta_keys),
]
test_pipeline = [
    dict(type='LoadMultiViewImageFromFiles', to_float32=True, num_views=6),
    dict(image_aug, test_mode=True),
    dict(type='BEVAug', test_mode=True),
    dict(type='Pack3DDetInputs', keys=['img'], meta_keys=meta_keys),
]
train_dataloader = dict(
    batch_size=8, num_workers=4, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root, ann_file='nuscenes_infos_train.pkl',
                 pipeline=train_pipeline, metainfo=metainfo, modality=input_modality,
                 data_prefix=data_prefix, test_mode=False, use_valid_flag=True,
                 box_type_3d='LiDAR'))
val_dataloader = dict(
    batch_size=1, num_workers=2, persistent_workers=True, drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, ann_file='nuscenes_infos_val.pkl',
                 pipeline=test_pipeline, metainfo=metainfo, modality=input_modality,
                 data_prefix=data_prefix, test_mode=True, box_type_3d='LiDAR'))
test_dataloader = val_dataloader
val_evaluator = dict(type='NuScenesMetric', data_root=data_root,
                     ann_file=data_root + 'nuscenes_infos_val.pkl', metric='bbox')
test_evaluator = val_evaluator

# BEVDet's recipe: AdamW 2e-4, batch 64 (8 GPUs x 8), 24 epochs
max_epochs = 24
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=max_epochs)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(type='OptimWrapper',
                     optimizer=dict(type='AdamW', lr=2e-4, weight_decay=1e-2),
                     clip_grad=dict(max_norm=5, norm_type=2))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=200),
    dict(type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True, milestones=[max_epochs],
         gamma=0.1)
]
auto_scale_lr = dict(enable=False, base_batch_size=64)
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=3),
    # tools/test.py --show-dir DIR: predicted and true boxes on the six cameras and from above
    visualization=dict(type='BEVDetVisualizationHook'))
custom_hooks = [dict(type='DataFilesCheckHook')]
