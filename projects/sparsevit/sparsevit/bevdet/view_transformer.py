"""Lift-Splat view transformer: camera features to a bird's-eye-view grid, in plain PyTorch."""
from collections import OrderedDict
from typing import Sequence

import torch
from mmengine.model import BaseModule
from mmengine.registry import MODELS
from torch import Tensor, nn

from .camera_geometry import frustum, frustum_points

CACHED_GEOMETRIES = 4


class BEVGrid:
    """An axis-aligned grid: ``(min, max, step)`` per axis x, y, z."""

    def __init__(self, x: Sequence[float], y: Sequence[float], z: Sequence[float]):
        self.lower = torch.tensor([x[0], y[0], z[0]], dtype=torch.float32)
        self.step = torch.tensor([x[2], y[2], z[2]], dtype=torch.float32)
        self.size = tuple(int(round((a[1] - a[0]) / a[2])) for a in (x, y, z))  # nX, nY, nZ

    def cells(self, points: Tensor) -> tuple[Tensor, Tensor]:
        """Flat cell index ``((b * nZ + iz) * nY + iy) * nX + ix`` of points ``(B, P, 3)``.

        Returns the indices of the points inside the grid (into ``B * P``) and their cells.
        """
        batch = points.shape[0]
        coords = ((points - self.lower) / self.step).floor().long()
        size = torch.tensor(self.size)
        inside = ((coords >= 0) & (coords < size)).all(-1)
        b = torch.arange(batch)[:, None].expand(inside.shape)
        nx, ny, nz = self.size
        cell = ((b * nz + coords[..., 2]) * ny + coords[..., 1]) * nx + coords[..., 0]
        kept = inside.flatten().nonzero()[:, 0]
        return kept, cell.flatten()[kept]


@MODELS.register_module()
class LiftSplatViewTransformer(BaseModule):
    """Lift image features with a predicted depth distribution and splat them into BEV.

    A 1x1 convolution predicts, per feature cell, ``D`` depth logits and
    ``out_channels`` context features; every frustum point carries
    ``softmax(depth) x context``; points are summed into the BEV cell they fall in
    with ``index_add_`` (Z cells are stacked into channels). The point-to-cell
    indices depend only on the camera geometry, so they are computed once per
    geometry and reused while it does not change (e.g. at test time).

    Args:
        in_channels: channels of the image features (stride ``stride``).
        out_channels: context channels per BEV cell and Z cell.
        image_size: ``(H, W)`` of the network input images.
        stride: feature stride (16 for BEVDet-Tiny).
        depth: ``(min, max, step)`` of the depth bins in metres.
        grid_x, grid_y, grid_z: ``(min, max, step)`` of the BEV grid in metres.
    """

    def __init__(self, in_channels: int = 512, out_channels: int = 64,
                 image_size: Sequence[int] = (256, 704), stride: int = 16,
                 depth: Sequence[float] = (1.0, 60.0, 1.0),
                 grid_x: Sequence[float] = (-51.2, 51.2, 0.8),
                 grid_y: Sequence[float] = (-51.2, 51.2, 0.8),
                 grid_z: Sequence[float] = (-10.0, 10.0, 20.0), init_cfg=None):
        super().__init__(init_cfg)
        self.out_channels = out_channels
        self.image_size = tuple(image_size)
        self.grid = BEVGrid(grid_x, grid_y, grid_z)
        self.register_buffer('frustum', frustum(image_size, stride, torch.arange(*depth)),
                             persistent=False)
        self.num_depths = self.frustum.shape[0]
        self.depth_net = nn.Conv2d(in_channels, self.num_depths + out_channels, 1)
        self._indices: OrderedDict = OrderedDict()

    @property
    def bev_channels(self) -> int:
        return self.out_channels * self.grid.size[2]

    def splat_indices(self, cam2img: Tensor, cam2lidar: Tensor, img_aug: Tensor,
                      bev_aug: Tensor) -> tuple[Tensor, Tensor]:
        """Indices of the frustum points inside the grid, and their cells (cached)."""
        geometry = [t.detach().float().cpu().contiguous() for t in
                    (cam2img, cam2lidar, img_aug, bev_aug)]
        key = b''.join(t.numpy().tobytes() for t in geometry) + \
            str([tuple(t.shape) for t in geometry]).encode()
        if key in self._indices:
            self._indices.move_to_end(key)
            return self._indices[key]
        points = frustum_points(self.frustum.cpu(), *geometry)
        kept, cells = self.grid.cells(points.flatten(1, -2))
        indices = (kept.to(cam2img.device), cells.to(cam2img.device))
        self._indices[key] = indices
        if len(self._indices) > CACHED_GEOMETRIES:
            self._indices.popitem(last=False)
        return indices

    def splat(self, depth: Tensor, context: Tensor, cam2img: Tensor, cam2lidar: Tensor,
              img_aug: Tensor, bev_aug: Tensor) -> Tensor:
        """Sum ``depth x context`` of every frustum point into its BEV cell.

        Args:
            depth: ``(B, N, D, fH, fW)`` depth probabilities.
            context: ``(B, N, C, fH, fW)`` context features.
            cam2img, cam2lidar, img_aug, bev_aug: see :func:`frustum_points`.

        Returns:
            ``(B, C * nZ, nY, nX)`` BEV features (row = y, column = x).
        """
        batch, _, channels = context.shape[:3]
        kept, cells = self.splat_indices(cam2img, cam2lidar, img_aug, bev_aug)
        # (B, N, D, fH, fW, C): one feature vector per frustum point, in frustum order
        volume = depth.unsqueeze(-1) * context.permute(0, 1, 3, 4, 2).unsqueeze(2)
        features = volume.reshape(-1, channels)[kept]
        nx, ny, nz = self.grid.size
        bev = volume.new_zeros(batch * nz * ny * nx, channels).index_add_(0, cells, features)
        bev = bev.view(batch, nz, ny, nx, channels)
        return bev.permute(0, 1, 4, 2, 3).reshape(batch, nz * channels, ny, nx)

    def forward(self, features: Tensor, cam2img: Tensor, cam2lidar: Tensor, img_aug: Tensor,
                bev_aug: Tensor) -> Tensor:
        """``(B * N, in_channels, fH, fW)`` image features to ``(B, C * nZ, nY, nX)`` BEV."""
        batch, cameras = cam2img.shape[:2]
        out = self.depth_net(features)
        depth = out[:, :self.num_depths].softmax(dim=1)
        context = out[:, self.num_depths:]
        fh, fw = out.shape[-2:]
        if (fh, fw) != tuple(self.frustum.shape[1:3]):
            raise ValueError(f'image features of {fh}x{fw} do not fit the {self.image_size} '
                             f'input images of this view transformer (expected '
                             f'{tuple(self.frustum.shape[1:3])})')
        return self.splat(depth.view(batch, cameras, -1, fh, fw),
                          context.view(batch, cameras, -1, fh, fw),
                          cam2img, cam2lidar, img_aug, bev_aug)
