"""Camera parameters of a batch, read from the metainfo of mmdet3d data samples and checked."""
from typing import Optional, Sequence

import numpy as np
import torch
from torch import Tensor

# metainfo key -> accepted trailing shapes; the first is what the view transformer uses
CAMERA_FIELDS = {
    'cam2img': ((3, 3), (4, 4)),
    'lidar2cam': ((4, 4),),
    'img_aug_matrix': ((3, 3),),
}


def _sample_name(meta: dict) -> str:
    for key in ('token', 'sample_idx', 'sample_token'):
        if key in meta:
            return f'{key} {meta[key]}'
    return 'a sample without a token'


def _camera_field(meta: dict, key: str, num_cameras: int) -> Optional[np.ndarray]:
    if key not in meta:
        return None
    value = np.asarray(meta[key], dtype=np.float64)
    shapes = CAMERA_FIELDS[key]
    if value.ndim != 3 or value.shape[0] != num_cameras or value.shape[1:] not in shapes:
        wanted = ' or '.join(f'({num_cameras}, {h}, {w})' for h, w in shapes)
        raise ValueError(f'{_sample_name(meta)}: camera parameter {key!r} has shape '
                         f'{value.shape}, expected {wanted} (one per camera image)')
    return value[:, :3, :3] if key == 'cam2img' else value


def stack_camera_params(metas: Sequence[dict], num_cameras: int,
                        device: torch.device) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """``cam2img (B, N, 3, 3)``, ``cam2lidar (B, N, 4, 4)``, ``img_aug (B, N, 3, 3)`` and
    ``bev_aug (B, 3, 3)``.

    ``img_aug_matrix`` (image-view augmentation) and ``bev_aug_matrix`` default
    to the identity; ``cam2img`` and ``lidar2cam`` are required.

    Raises:
        ValueError: a field is missing or has the wrong shape; the message names
            the sample and the field.
    """
    per_sample = []
    for meta in metas:
        fields = {key: _camera_field(meta, key, num_cameras) for key in CAMERA_FIELDS}
        for key in ('cam2img', 'lidar2cam'):
            if fields[key] is None:
                raise ValueError(f'{_sample_name(meta)}: camera parameter {key!r} is missing '
                                 f'from the data sample (load the images with their camera '
                                 f'parameters)')
        if fields['img_aug_matrix'] is None:
            fields['img_aug_matrix'] = np.tile(np.eye(3), (num_cameras, 1, 1))
        bev_aug = np.asarray(meta.get('bev_aug_matrix', np.eye(3)), dtype=np.float64)
        if bev_aug.shape != (3, 3):
            raise ValueError(f'{_sample_name(meta)}: bev_aug_matrix has shape {bev_aug.shape}, '
                             f'expected (3, 3)')
        per_sample.append((fields['cam2img'], np.linalg.inv(fields['lidar2cam']),
                           fields['img_aug_matrix'], bev_aug))
    return tuple(torch.as_tensor(np.stack(column), dtype=torch.float32, device=device)
                 for column in zip(*per_sample))
