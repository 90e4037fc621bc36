"""The sparse backbone of a task model, and how the model normalizes its input images."""
from typing import Optional

import torch
from torch import Tensor, nn

from ..apis import init_model
from ..model_sparsity import sparse_backbones
from ..models.backbones import SparseSwinTransformer
from ..presets import sparsity_argument
from .errors import DeploymentError

IMAGENET_MEAN = (123.675, 116.28, 103.53)
IMAGENET_STD = (58.395, 57.12, 57.375)


def load_sparse_backbone(config: str, checkpoint: Optional[str],
                         sparsity: str) -> tuple[nn.Module, SparseSwinTransformer]:
    """The task model of ``config`` (weights of ``checkpoint``) and its sparse backbone set to
    ``sparsity`` (see :func:`sparsevit.presets.sparsity_argument`), in eval mode on the CPU."""
    model = init_model(config, checkpoint).eval()
    backbones = sparse_backbones(model)
    if not backbones:
        raise DeploymentError(f'{config}: the model has no SparseSwinTransformer backbone')
    backbone = backbones[0]
    backbone.sparsity = sparsity_argument(sparsity, len(backbone.depths))
    return model, backbone


def model_neck(model: nn.Module, config: str) -> nn.Module:
    """The neck that follows the backbone: ``neck`` (mmdet) or ``img_neck`` (BEVDet)."""
    neck = getattr(model, 'neck', None)
    if neck is None:  # not `or`: container modules are falsy when empty
        neck = getattr(model, 'img_neck', None)
    if neck is None:
        raise DeploymentError(f'{config}: the model has no neck after its backbone '
                              '(--with-neck needs mmdet\'s neck or BEVDet\'s img_neck)')
    return neck


def input_normalization(model: nn.Module) -> tuple[Tensor, Tensor]:
    """``(C, 1, 1)`` mean and std of the model's data preprocessor (ImageNet's if it has none)."""
    preprocessor = getattr(model, 'data_preprocessor', None)
    mean, std = getattr(preprocessor, 'mean', None), getattr(preprocessor, 'std', None)
    if mean is None or std is None:
        mean, std = torch.tensor(IMAGENET_MEAN), torch.tensor(IMAGENET_STD)
    return mean.float().cpu().view(-1, 1, 1), std.float().cpu().view(-1, 1, 1)
