"""BEVDet-Tiny composition on mmdet3d 1.x: builds from a config, trains, predicts, checks inputs."""
import numpy as np
import pytest
import torch
from mmdet3d.registry import MODELS
from mmdet3d.structures import Det3DDataSample, LiDARInstance3DBoxes
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData

import sparsevit.bevdet  # noqa: F401  registers BEVDet and its parts
from sparsevit import SparseSwinTransformer, get_sparsity, set_sparsity

IMAGE = (128, 352)
CAMERAS = 6
TASKS = [
    dict(num_class=1, class_names=['car']),
    dict(num_class=2, class_names=['truck', 'construction_vehicle']),
    dict(num_class=2, class_names=['bus', 'trailer']),
    dict(num_class=1, class_names=['barrier']),
    dict(num_class=2, class_names=['motorcycle', 'bicycle']),
    dict(num_class=2, class_names=['pedestrian', 'traffic_cone']),
]
GRID = dict(point_cloud_range=[-51.2, -51.2, -5.0, 51.2, 51.2, 3.0], voxel_size=[0.1, 0.1, 0.2])


def tiny_bevdet() -> dict:
    """BEVDet-Tiny's composition with small widths (the real one: Swin-T, 512 / 64 / 256)."""
    return dict(
        type='BEVDet',
        data_preprocessor=dict(type='Det3DDataPreprocessor', mean=[123.675, 116.28, 103.53],
                               std=[58.395, 57.12, 57.375], bgr_to_rgb=True),
        img_backbone=dict(type='SparseSwinTransformer', embed_dims=24, depths=(2, 2, 2, 2),
                          num_heads=(1, 2, 4, 8), window_size=4, out_indices=(2, 3)),
        img_neck=dict(type='ImageFusionNeck', in_channels=(96, 192), out_channels=32),
        view_transformer=dict(type='LiftSplatViewTransformer', in_channels=32, out_channels=16,
                              image_size=IMAGE, stride=16),
        bev_backbone=dict(type='BEVResNet', in_channels=16, channels=(32, 64, 128)),
        bev_neck=dict(type='BEVFusionNeck', in_channels=(32, 128), mid_channels=64,
                      out_channels=32),
        bbox_head=dict(
            type='CenterHead', in_channels=32, tasks=TASKS,
            common_heads=dict(reg=(2, 2), height=(1, 2), dim=(3, 2), rot=(2, 2), vel=(2, 2)),
            share_conv_channel=32,
            bbox_coder=dict(type='CenterPointBBoxCoder', pc_range=[-51.2, -51.2],
                            post_center_range=[-61.2, -61.2, -10.0, 61.2, 61.2, 10.0],
                            max_num=100, score_threshold=0.0, out_size_factor=8,
                            voxel_size=[0.1, 0.1], code_size=9),
            separate_head=dict(type='SeparateHead', init_bias=-2.19, final_kernel=3),
            loss_cls=dict(type='mmdet.GaussianFocalLoss', reduction='mean'),
            loss_bbox=dict(type='mmdet.L1Loss', reduction='mean', loss_weight=0.25),
            norm_bbox=True),
        train_cfg=dict(grid_size=[1024, 1024, 40], out_size_factor=8, dense_reg=1,
                       gaussian_overlap=0.1, max_objs=100, min_radius=2,
                       code_weights=[1.0] * 8 + [0.2, 0.2], **GRID),
        test_cfg=dict(pc_range=[-51.2, -51.2],
                      post_center_limit_range=[-61.2, -61.2, -10.0, 61.2, 61.2, 10.0],
                      max_per_img=100, max_pool_nms=False, min_radius=[4, 12, 10, 1, 0.85, 0.175],
                      score_threshold=0.0, out_size_factor=8, voxel_size=[0.1, 0.1],
                      nms_type='rotate', pre_max_size=200, post_max_size=50, nms_thr=0.2))


def ring_of_cameras() -> dict:
    """Six cameras around the LiDAR origin, 60 degrees apart, looking outwards."""
    cam2img = np.array([[200.0, 0, IMAGE[1] / 2], [0, 200.0, IMAGE[0] / 2], [0, 0, 1]])
    lidar2cam = []
    for k in range(CAMERAS):
        yaw = np.deg2rad(60 * k)
        forward = np.array([np.cos(yaw), np.sin(yaw), 0])
        right = np.array([np.sin(yaw), -np.cos(yaw), 0])
        rotation = np.stack([right, [0, 0, -1], forward], axis=1)  # camera axes in LiDAR
        cam2lidar = np.eye(4)
        cam2lidar[:3, :3], cam2lidar[:3, 3] = rotation, [0, 0, 1.5]
        lidar2cam.append(np.linalg.inv(cam2lidar))
    return dict(cam2img=[cam2img] * CAMERAS, lidar2cam=lidar2cam,
                box_type_3d=LiDARInstance3DBoxes, sample_idx=0)


def batch(size: int = 2):
    samples = []
    for i in range(size):
        sample = Det3DDataSample(metainfo=dict(ring_of_cameras(), sample_idx=i))
        sample.gt_instances_3d = InstanceData(
            bboxes_3d=LiDARInstance3DBoxes(torch.tensor([
                [10.0, 2.0, -1.0, 4.2, 1.9, 1.6, 0.3, 1.0, 0.0],
                [-6.0, -8.0, -1.2, 0.7, 0.7, 1.8, 1.2, 0.0, 0.5]]), box_dim=9),
            labels_3d=torch.tensor([0, 8]))
        samples.append(sample)
    imgs = [torch.randint(0, 255, (CAMERAS, 3, *IMAGE), dtype=torch.uint8) for _ in range(size)]
    return dict(inputs=dict(img=imgs), data_samples=samples)


@pytest.fixture
def model():
    init_default_scope('mmdet3d')
    torch.manual_seed(0)
    return MODELS.build(tiny_bevdet())


def test_builds_with_the_sparse_backbone(model):
    assert isinstance(model.img_backbone, SparseSwinTransformer)
    set_sparsity(model, [0.5, 0.5, 0.3, 0])
    assert get_sparsity(model) == [0.5, 0.5, 0.3, 0.0]


def test_training_step_gives_centerpoint_losses_and_gradients(model):
    set_sparsity(model, [0.5, 0.5, 0.3, 0])
    data = model.data_preprocessor(batch(), True)
    assert data['inputs']['imgs'].shape == (2, CAMERAS, 3, *IMAGE)
    losses = model(**data, mode='loss')
    assert {'task0.loss_heatmap', 'task0.loss_bbox', 'task5.loss_heatmap'} <= set(losses)
    total = sum(v for v in losses.values())
    assert torch.isfinite(total)
    total.backward()
    assert model.img_backbone.patch_embed.projection.weight.grad.abs().sum() > 0
    assert model.view_transformer.depth_net.weight.grad.abs().sum() > 0


def test_windows_are_selected_per_camera_image(model):
    """Each of the B x N images gets its own kept windows."""
    set_sparsity(model, [0.5, 0, 0, 0])
    model.eval()
    data = model.data_preprocessor(batch(1), False)
    with torch.no_grad(), model.img_backbone.recording_windows() as forwards:
        model(**data, mode='tensor')
    kept = forwards[0][0][0]['kept']
    assert kept.shape[0] == CAMERAS  # one row of kept windows per camera image
    assert len({tuple(row.tolist()) for row in kept}) > 1


def test_predict_returns_lidar_boxes(model):
    model.eval()
    with torch.no_grad():
        results = model.test_step(batch(1))
    pred = results[0].pred_instances_3d
    assert isinstance(pred.bboxes_3d, LiDARInstance3DBoxes)
    assert pred.bboxes_3d.tensor.shape[1] == 9 and len(pred.scores_3d) == len(pred.labels_3d)


@pytest.mark.parametrize('field, value, message', [
    ('cam2img', np.eye(3)[None].repeat(5, 0),
     r"sample_idx 0: camera parameter 'cam2img' has shape \(5, 3, 3\), expected \(6, 3, 3\) "
     r"or \(6, 4, 4\)"),
    ('lidar2cam', np.eye(3)[None].repeat(6, 0),
     r"sample_idx 0: camera parameter 'lidar2cam' has shape \(6, 3, 3\), expected \(6, 4, 4\)"),
    ('lidar2cam', None, r"sample_idx 0: camera parameter 'lidar2cam' is missing"),
])
def test_camera_parameters_of_the_wrong_shape_are_named(model, field, value, message):
    data = batch(1)
    if value is None:
        meta = dict(data['data_samples'][0].metainfo)
        meta.pop(field)
        data['data_samples'][0] = Det3DDataSample(metainfo=meta)
    else:
        data['data_samples'][0].set_metainfo({field: value})
    model.eval()
    with pytest.raises(ValueError, match=message):
        model.test_step(data)
