"""Camera geometry of a Lift-Splat view transformer: image-view augmentation and frustums.

Pixel coordinates are those of pixel centres (``u`` right, ``v`` down, the top-left
pixel at (0, 0)), the convention of OpenCV's ``warpAffine`` and of ``cam2img``.
"""
import math
from typing import Sequence

import numpy as np
import torch
from torch import Tensor


def image_view_affine(resize: float, crop: Sequence[int], flip: bool,
                      rotate: float) -> np.ndarray:
    """The 3x3 matrix that maps a pixel ``(u, v, 1)`` of a camera image to the augmented one.

    The augmentation, in this order: scale by ``resize``; crop the box
    ``(x0, y0, x1, y1)`` of the scaled image; flip horizontally inside the crop;
    rotate by ``rotate`` degrees (counter-clockwise on screen) about the crop
    centre. ``cv2.warpAffine(image, A[:2], (x1 - x0, y1 - y0))`` applies it to
    the image itself.
    """
    x0, y0, x1, y1 = crop
    width, height = x1 - x0, y1 - y0
    scale = np.diag([resize, resize, 1.0])
    shift = np.array([[1.0, 0, -x0], [0, 1, -y0], [0, 0, 1]])
    mirror = np.array([[-1.0, 0, width - 1], [0, 1, 0], [0, 0, 1]]) if flip else np.eye(3)
    angle = math.radians(rotate)
    cos, sin = math.cos(angle), math.sin(angle)
    cx, cy = (width - 1) / 2, (height - 1) / 2
    to_centre = np.array([[1.0, 0, -cx], [0, 1, -cy], [0, 0, 1]])
    turn = np.array([[cos, sin, 0], [-sin, cos, 0], [0, 0, 1]])  # y points down
    back = np.array([[1.0, 0, cx], [0, 1, cy], [0, 0, 1]])
    return back @ turn @ to_centre @ mirror @ shift @ scale


def frustum(image_size: Sequence[int], stride: int, depths: Tensor) -> Tensor:
    """Pixel rays of a feature map: ``(D, fH, fW, 3)`` holding ``(u, v, d)``.

    Feature cell ``(i, j)`` of stride ``stride`` looks at the centre of its
    ``stride x stride`` block of the (augmented) input image of ``(H, W)``.
    """
    height, width = image_size
    if height % stride or width % stride:
        raise ValueError(f'image size {tuple(image_size)} is not a multiple of the feature '
                         f'stride {stride}')
    us = (torch.arange(width // stride, dtype=torch.float32) + 0.5) * stride - 0.5
    vs = (torch.arange(height // stride, dtype=torch.float32) + 0.5) * stride - 0.5
    d, v, u = torch.meshgrid(depths.float(), vs, us, indexing='ij')
    return torch.stack([u, v, d], dim=-1)


def frustum_points(frustum_uvd: Tensor, cam2img: Tensor, cam2lidar: Tensor, img_aug: Tensor,
                   bev_aug: Tensor) -> Tensor:
    """Every frustum point of every camera in the (augmented) BEV frame.

    Args:
        frustum_uvd: ``(D, fH, fW, 3)`` from :func:`frustum`.
        cam2img: ``(B, N, 3, 3)`` camera intrinsics.
        cam2lidar: ``(B, N, 4, 4)`` camera-to-LiDAR (BEV frame) transforms.
        img_aug: ``(B, N, 3, 3)`` image-view augmentations (:func:`image_view_affine`).
        bev_aug: ``(B, 3, 3)`` BEV augmentation (rotation, scaling, flips).

    Returns:
        ``(B, N, D, fH, fW, 3)`` points ``(x, y, z)``.
    """
    pixels = torch.cat([frustum_uvd[..., :2], torch.ones_like(frustum_uvd[..., :1])], -1)
    depth = frustum_uvd[..., 2:]
    # one 3x3 matrix per camera takes an augmented pixel to a ray in the BEV frame
    rays = bev_aug[:, None] @ cam2lidar[..., :3, :3] @ torch.linalg.inv(cam2img) \
        @ torch.linalg.inv(img_aug)
    origin = (bev_aug[:, None] @ cam2lidar[..., :3, 3:])[..., 0]  # (B, N, 3)
    points = torch.einsum('bnij,dhwj->bndhwi', rays, pixels) * depth
    return points + origin[:, :, None, None, None]
