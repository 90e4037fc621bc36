"""The sparse backbone of a task model, and how the model normalizes its input images."""
from typing import Optional

import torch
from torch import Tensor, nn

from ..apis import init_model
from ..model_sparsity import NoSparseBackboneError, sparse_backbones
from ..models.backbones import SparseSwinTransformer
from ..sparsity import SparsityLike
from .errors import DeploymentError

IMAGENET_MEAN = (123.675, 116.28, 103.53)
IMAGENET_STD = (58.395, 57.12, 57.375)


def load_sparse_backbone(config: str, checkpoint: Optional[str] = None,
                         sparsity: SparsityLike = None) -> tuple[nn.Module, SparseSwinTransformer]:
    """The task model of ``config`` (weights of ``checkpoint``, else random) and its sparse
    backbone, set to ``sparsity`` if given, in eval mode on the CPU.

    Raises:
        DeploymentError: the model has no SparseSwinTransformer backbone.
        SparsityError: ``sparsity`` does not fit the backbone.
    """
    model = init_model(config, checkpoint).eval()
    try:
        backbone = sparse_backbones(model)[0]
    except NoSparseBackboneError as err:
        raise DeploymentError(f'{config}: {err}') from err
    if sparsity is not None:
        backbone.sparsity = sparsity
    return model, backbone


def model_neck(model: nn.Module, config: str) -> nn.Module:
    """The neck that follows the backbone: ``neck`` (mmdet) or ``img_neck`` (BEVDet)."""
    neck = getattr(model, 'neck', None)
    if neck is None:  # not `or`: container modules are falsy when empty
        neck = getattr(model, 'img_neck', None)
    if neck is None:
        raise DeploymentError(f'{config}: the model has no neck after its backbone '
                              "(neither mmdet's neck nor BEVDet's img_neck)")
    return neck


def input_normalization(model: nn.Module) -> tuple[Tensor, Tensor]:
    """``(C, 1, 1)`` mean and std of the model's data preprocessor (ImageNet's if it has none)."""
    preprocessor = getattr(model, 'data_preprocessor', None)
    mean, std = getattr(preprocessor, 'mean', None), getattr(preprocessor, 'std', None)
    if mean is None or std is None:
        mean, std = torch.tensor(IMAGENET_MEAN), torch.tensor(IMAGENET_STD)
    return mean.float().cpu().view(-1, 1, 1), std.float().cpu().view(-1, 1, 1)
