"""The ResNet-style BEV encoder of BEVDet: stages of basic residual blocks on the BEV map."""
from typing import Sequence

from mmdet.models.backbones.resnet import BasicBlock
from mmengine.model import BaseModule
from mmengine.registry import MODELS
from torch import Tensor, nn


@MODELS.register_module()
class BEVResNet(BaseModule):
    """``len(channels)`` stages of ``num_blocks`` basic blocks, each starting with a stride.

    Returns the output of every stage (for BEVDet-Tiny: 128, 256, 512 channels at
    strides 2, 4, 8 of the BEV grid).
    """

    def __init__(self, in_channels: int = 64, channels: Sequence[int] = (128, 256, 512),
                 num_blocks: Sequence[int] = (2, 2, 2), strides: Sequence[int] = (2, 2, 2),
                 init_cfg=None):
        super().__init__(init_cfg)
        stages = []
        for out_channels, blocks, stride in zip(channels, num_blocks, strides):
            downsample = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False),
                nn.BatchNorm2d(out_channels))
            layers = [BasicBlock(in_channels, out_channels, stride, downsample=downsample)]
            layers += [BasicBlock(out_channels, out_channels) for _ in range(blocks - 1)]
            stages.append(nn.Sequential(*layers))
            in_channels = out_channels
        self.stages = nn.ModuleList(stages)

    def forward(self, bev: Tensor) -> list[Tensor]:
        outputs = []
        for stage in self.stages:
            bev = stage(bev)
            outputs.append(bev)
        return outputs
