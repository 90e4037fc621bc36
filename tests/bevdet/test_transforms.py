"""BEVDet augmentations: the recorded matrices describe exactly what was done to images/boxes."""
import cv2
import numpy as np
import pytest
import torch
from mmdet3d.structures import LiDARInstance3DBoxes

from sparsevit.bevdet.transforms import BEVAug, MultiViewImageAug

ORIGINAL = (225, 400)  # (H, W) of the camera images, nuScenes' 900x1600 / 4
FINAL = (128, 352)
DOTS = [(260, 120), (90, 170), (200, 150)]  # (u, v) per camera: where a blurred dot is drawn


def camera_images():
    images = []
    for u, v in DOTS:
        image = np.zeros((*ORIGINAL, 3), np.float32)
        image[v, u] = 1.0
        images.append(cv2.GaussianBlur(image, (0, 0), 3))
    return images


def centroid(image):
    weight = image[..., 0]
    ys, xs = np.mgrid[:image.shape[0], :image.shape[1]]
    return np.array([(weight * xs).sum(), (weight * ys).sum()]) / weight.sum()


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_image_matrix_is_what_the_images_went_through(seed):
    np.random.seed(seed)
    aug = MultiViewImageAug(final_size=FINAL, resize_range=(0.9, 1.1), bottom_crop=(0.0, 0.2),
                            flip_prob=0.5, rotate_range=(-5.4, 5.4))
    results = aug(dict(img=camera_images()))
    assert results['img_shape'] == FINAL
    assert results['img_aug_matrix'].shape == (3, 3, 3)
    for image, matrix, (u, v) in zip(results['img'], results['img_aug_matrix'], DOTS):
        assert image.shape[:2] == FINAL
        assert centroid(image) == pytest.approx((matrix @ [u, v, 1.0])[:2], abs=0.15)


def test_test_mode_is_deterministic_without_flip_or_rotation():
    aug = MultiViewImageAug(final_size=FINAL, resize_range=(0.9, 1.1), bottom_crop=(0.0, 0.2),
                            test_mode=True)
    first = aug(dict(img=camera_images()))['img_aug_matrix']
    second = aug(dict(img=camera_images()))['img_aug_matrix']
    np.testing.assert_array_equal(first, second)
    resize = FINAL[1] / ORIGINAL[1]
    np.testing.assert_allclose(first[0][:2, :2], np.eye(2) * resize, rtol=1e-6)


def boxes():
    return LiDARInstance3DBoxes(torch.tensor([
        [10.0, 2.0, -1.0, 4.2, 1.9, 1.6, 0.3, 1.0, 0.5],
        [-6.0, -8.0, -1.2, 0.7, 0.7, 1.8, 2.5, -0.4, 0.2]]), box_dim=9)


@pytest.mark.parametrize('seed', range(4))
def test_bev_matrix_moves_boxes_their_headings_and_velocities(seed):
    np.random.seed(seed)
    before = boxes()
    results = BEVAug()(dict(gt_bboxes_3d=boxes()))
    after, matrix = results['gt_bboxes_3d'].tensor.numpy(), results['bev_aug_matrix']
    old = before.tensor.numpy()
    np.testing.assert_allclose(after[:, :3], old[:, :3] @ matrix.T, atol=1e-4)
    np.testing.assert_allclose(after[:, 7:9], old[:, 7:9] @ matrix[:2, :2].T, atol=1e-4)
    scale = abs(np.linalg.det(matrix)) ** (1 / 3)
    np.testing.assert_allclose(after[:, 3:6], old[:, 3:6] * scale, rtol=1e-4)
    heading = np.stack([np.cos(old[:, 6]), np.sin(old[:, 6])], 1) @ matrix[:2, :2].T / scale
    np.testing.assert_allclose(np.stack([np.cos(after[:, 6]), np.sin(after[:, 6])], 1),
                               heading, atol=1e-4)


def test_bev_test_mode_is_the_identity():
    results = BEVAug(test_mode=True)(dict(gt_bboxes_3d=boxes()))
    np.testing.assert_array_equal(results['bev_aug_matrix'], np.eye(3))
    assert torch.equal(results['gt_bboxes_3d'].tensor, boxes().tensor)
