"""Feature fusion necks of BEVDet-Tiny: image stages 3-4 to stride 16, BEV scales to one map."""
from typing import Sequence

import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from mmengine.registry import MODELS
from torch import Tensor, nn

BN_RELU = dict(norm_cfg=dict(type='BN'), act_cfg=dict(type='ReLU'))


def _conv_pair(in_channels: int, out_channels: int) -> nn.Sequential:
    """Two 3x3 conv-BN-ReLU layers."""
    return nn.Sequential(ConvModule(in_channels, out_channels, 3, padding=1, **BN_RELU),
                         ConvModule(out_channels, out_channels, 3, padding=1, **BN_RELU))


@MODELS.register_module()
class ImageFusionNeck(BaseModule):
    """Upsample the deepest image feature map to the first one's stride, concatenate, fuse.

    For BEVDet-Tiny: Swin-T stages 3 and 4 (384 and 768 channels, strides 16 and
    32) become one 512-channel map at stride 16.
    """

    def __init__(self, in_channels: Sequence[int] = (384, 768), out_channels: int = 512,
                 init_cfg=None):
        super().__init__(init_cfg)
        self.fuse = _conv_pair(sum(in_channels), out_channels)

    def forward(self, features: Sequence[Tensor]) -> list[Tensor]:
        size = features[0].shape[-2:]
        resized = [features[0]] + [F.interpolate(f, size=size, mode='bilinear',
                                                 align_corners=False) for f in features[1:]]
        return [self.fuse(torch.cat(resized, dim=1))]


@MODELS.register_module()
class BEVFusionNeck(BaseModule):
    """Fuse the first and last BEV encoder scales and return to the input BEV resolution.

    The last (coarsest) map is upsampled to the first one's size, concatenated
    with it and fused; the result is upsampled by ``final_scale`` and fused again.
    """

    def __init__(self, in_channels: Sequence[int] = (128, 512), mid_channels: int = 512,
                 out_channels: int = 256, final_scale: int = 2, init_cfg=None):
        super().__init__(init_cfg)
        self.fuse = _conv_pair(in_channels[0] + in_channels[-1], mid_channels)
        self.final_scale = final_scale
        self.out = _conv_pair(mid_channels, out_channels)

    def forward(self, features: Sequence[Tensor]) -> list[Tensor]:
        first, last = features[0], features[-1]
        last = F.interpolate(last, size=first.shape[-2:], mode='bilinear', align_corners=True)
        fused = self.fuse(torch.cat([first, last], dim=1))
        fused = F.interpolate(fused, scale_factor=self.final_scale, mode='bilinear',
                              align_corners=True)
        return [self.out(fused)]
