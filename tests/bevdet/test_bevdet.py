"""BEVDet-Tiny composition on mmdet3d 1.x: builds from a config, trains, predicts, checks inputs."""
import numpy as np
import pytest
import torch
from mmdet3d.registry import MODELS
from mmdet3d.structures import Det3DDataSample, LiDARInstance3DBoxes
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData

import sparsevit.bevdet  # noqa: F401  registers BEVDet and its parts
from sparsevit import SparseSwinTransformer, get_sparsity, set_sparsity

from ..helpers import BEVDET_CONFIG, small_bevdet

IMAGE = (128, 352)
CAMERAS = 6


def small_bevdet_model() -> dict:
    """The model of the BEVDet-Tiny config at small widths, keeping every box it predicts."""
    cfg = Config.fromfile(str(BEVDET_CONFIG))
    cfg.merge_from_dict(dict(model=small_bevdet(IMAGE)))
    cfg.model.bbox_head.bbox_coder.score_threshold = 0.0
    cfg.model.test_cfg.score_threshold = 0.0
    return cfg.model


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
    return MODELS.build(small_bevdet_model())


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
