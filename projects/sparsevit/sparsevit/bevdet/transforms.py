"""Data augmentation of BEVDet that keeps the camera geometry consistent (mmdet3d transforms).

``MultiViewImageAug`` resizes, crops, flips and rotates every camera image and
records the matrix it applied (``img_aug_matrix``); ``BEVAug`` rotates, scales and
flips the scene (boxes) and records ``bev_aug_matrix``. The view transformer
undoes the first and applies the second, so features land where the boxes are.
"""
import math
from typing import Sequence

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmdet3d.registry import TRANSFORMS

from .camera_geometry import image_view_affine


@TRANSFORMS.register_module()
class MultiViewImageAug(BaseTransform):
    """Resize, crop, flip and rotate each image of ``results['img']`` to ``final_size``.

    Training samples a resize factor ``final_w / W * uniform(*resize_range)``, a
    crop whose bottom edge lies ``uniform(*bottom_crop)`` of the resized height
    above the image bottom (BEVDet keeps the road, drops the sky), a random
    horizontal offset, a flip with probability ``flip_prob`` and a rotation in
    ``rotate_range`` degrees, independently per camera. Test mode (``test_mode``)
    uses the mean resize, the mean bottom crop, a centred crop, no flip and no
    rotation.

    Adds ``img_aug_matrix`` (N, 3, 3) and updates ``img`` and ``img_shape``.
    """

    def __init__(self, final_size: Sequence[int] = (256, 704),
                 resize_range: Sequence[float] = (0.94, 1.11),
                 bottom_crop: Sequence[float] = (0.0, 0.0), flip_prob: float = 0.5,
                 rotate_range: Sequence[float] = (-5.4, 5.4), test_mode: bool = False):
        self.final_size = tuple(final_size)
        self.resize_range = tuple(resize_range)
        self.bottom_crop = tuple(bottom_crop)
        self.flip_prob = flip_prob
        self.rotate_range = tuple(rotate_range)
        self.test_mode = test_mode

    def sample(self, height: int, width: int, rng: np.random.Generator) -> dict:
        """Parameters of :func:`image_view_affine` for one ``height x width`` image."""
        final_h, final_w = self.final_size
        if self.test_mode:
            scale, bottom = float(np.mean(self.resize_range)), float(np.mean(self.bottom_crop))
            flip, rotate, offset = False, 0.0, 0.5
        else:
            scale, bottom = rng.uniform(*self.resize_range), rng.uniform(*self.bottom_crop)
            flip, rotate = rng.random() < self.flip_prob, rng.uniform(*self.rotate_range)
            offset = rng.random()
        resize = final_w / width * scale
        new_h, new_w = int(height * resize), int(width * resize)
        y0 = int((1 - bottom) * new_h) - final_h
        x0 = int(offset * max(0, new_w - final_w))
        return dict(resize=resize, crop=(x0, y0, x0 + final_w, y0 + final_h), flip=flip,
                    rotate=rotate)

    def transform(self, results: dict) -> dict:
        rng = np.random.default_rng(np.random.randint(2**31))  # follows the seeded global RNG
        images, matrices = [], []
        final_h, final_w = self.final_size
        for image in results['img']:
            matrix = image_view_affine(**self.sample(*image.shape[:2], rng))
            images.append(cv2.warpAffine(image, matrix[:2], (final_w, final_h),
                                         flags=cv2.INTER_LINEAR))
            matrices.append(matrix)
        results['img'] = images
        results['img_shape'] = self.final_size
        results['img_aug_matrix'] = np.stack(matrices).astype(np.float32)
        return results


@TRANSFORMS.register_module()
class BEVAug(BaseTransform):
    """Rotate, scale and flip the scene in the BEV plane; boxes and geometry alike.

    Order: rotation by ``uniform(*rotate_range)`` degrees (counter-clockwise seen
    from above), scaling by ``uniform(*scale_range)``, then flips of y
    (probability ``flip_y_prob``) and x (``flip_x_prob``). Updates
    ``gt_bboxes_3d`` (positions, sizes, yaw, velocity) and sets
    ``bev_aug_matrix`` (3, 3) with ``new point = bev_aug_matrix @ point``; with
    ``test_mode`` it only sets the identity.
    """

    def __init__(self, rotate_range: Sequence[float] = (-22.5, 22.5),
                 scale_range: Sequence[float] = (0.95, 1.05), flip_y_prob: float = 0.5,
                 flip_x_prob: float = 0.5, test_mode: bool = False):
        self.rotate_range = tuple(rotate_range)
        self.scale_range = tuple(scale_range)
        self.flip_y_prob, self.flip_x_prob = flip_y_prob, flip_x_prob
        self.test_mode = test_mode

    def transform(self, results: dict) -> dict:
        if self.test_mode:
            results['bev_aug_matrix'] = np.eye(3, dtype=np.float32)
            return results
        angle = math.radians(np.random.uniform(*self.rotate_range))
        scale = np.random.uniform(*self.scale_range)
        flip_y = np.random.rand() < self.flip_y_prob
        flip_x = np.random.rand() < self.flip_x_prob
        cos, sin = math.cos(angle), math.sin(angle)
        rotation = np.array([[cos, -sin, 0], [sin, cos, 0], [0, 0, 1]])
        flips = np.diag([-1.0 if flip_x else 1.0, -1.0 if flip_y else 1.0, 1.0])
        boxes = results.get('gt_bboxes_3d')
        if boxes is not None:
            boxes.rotate(boxes.tensor.new_tensor(rotation.T))  # mmdet3d: points @ rot_mat_T
            boxes.scale(float(scale))
            if flip_y:
                boxes.flip('horizontal')
            if flip_x:
                boxes.flip('vertical')
        results['bev_aug_matrix'] = (flips @ (scale * rotation)).astype(np.float32)
        return results
