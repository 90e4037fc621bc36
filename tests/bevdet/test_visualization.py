"""Drawing BEVDet boxes: projection into a camera, and the camera + bird's-eye-view figure."""
import numpy as np
import torch
from mmdet3d.structures import LiDARInstance3DBoxes

from sparsevit.bevdet.visualization import figure_to_rgb, project, render_sample

# a camera at the LiDAR origin looking along +x (camera z = LiDAR x, camera x = -LiDAR y)
LIDAR2CAM = np.array([[0.0, -1, 0, 0], [0, 0, -1, 0], [1, 0, 0, 0], [0, 0, 0, 1]])
CAM2IMG = np.array([[100.0, 0, 80], [0, 100, 45], [0, 0, 1]])


def corners(x: float, y: float) -> np.ndarray:
    boxes = LiDARInstance3DBoxes(torch.tensor([[x, y, -1.0, 4.0, 2.0, 1.5, 0.0]]))
    return boxes.corners.numpy()


def test_projection_of_boxes_in_front_and_behind():
    pixels, front = project(corners(10.0, 0.0), LIDAR2CAM, CAM2IMG)
    assert front.all() and pixels.shape == (1, 8, 2)
    assert np.allclose(pixels[0].mean(0), [80, 45 + 100 * 0.25 / 10], atol=5)  # near the centre
    _, front = project(corners(-10.0, 0.0), LIDAR2CAM, CAM2IMG)
    assert not front.any()


def test_render_six_cameras_and_the_birds_eye_view():
    images = [np.zeros((90, 160, 3), np.uint8)] * 6
    cameras = ('CAM_FRONT', 'CAM_FRONT_RIGHT', 'CAM_FRONT_LEFT', 'CAM_BACK', 'CAM_BACK_LEFT',
               'CAM_BACK_RIGHT')
    paths = [f'samples/{cam}/x.jpg' for cam in cameras]
    fig = render_sample(images, paths, np.stack([LIDAR2CAM] * 6), np.stack([CAM2IMG] * 6),
                        corners(10.0, 0.0), np.array([0.9]), corners(12.0, 1.0), title='t')
    assert len(fig.axes) == 7
    assert sorted(ax.get_title() for ax in fig.axes[:6]) == sorted(p.split('/')[1] for p in paths)
    rgb = figure_to_rgb(fig)
    assert rgb.ndim == 3 and rgb.shape[2] == 3 and rgb.dtype == np.uint8
