"""Loading Swin backbone weights from mmdet/mmseg, SparseViT or original Swin checkpoints."""
import logging
import re
from collections import OrderedDict

import torch.nn.functional as F
from mmengine.runner.checkpoint import CheckpointLoader
from torch import Tensor, nn

from ...checkpoint_loading import clear_checkpoint_errors
from .swin_converter import backbone_only, convert_swin_state_dict, first_keys, unwrap_state_dict

# parameters a classification checkpoint legitimately lacks: the detection-only output norms
OUTPUT_NORM_KEYS = re.compile(r'^norm\d+\.')


def extract_backbone_state(checkpoint: dict,
                           convert_weights: bool = False) -> 'OrderedDict[str, Tensor]':
    """Backbone parameters of a checkpoint, keyed as in mmdet's ``SwinTransformer``.

    Accepts a full detector/segmentor checkpoint (``backbone.`` prefix), a
    bare backbone state dict, DDP-saved keys (``module.``), and with
    ``convert_weights`` the original Swin release or timm (layout detected).
    """
    if convert_weights:
        return convert_swin_state_dict(checkpoint)
    state = backbone_only(unwrap_state_dict(checkpoint))
    # index buffers are a function of the window size: the backbone's own are right
    return OrderedDict(
        (k, v) for k, v in state.items() if not k.endswith('relative_position_index'))


def _resize_bias_tables(state: dict, target: dict, logger: logging.Logger) -> None:
    """Bicubic resize of relative position bias tables saved for another window size."""
    for key, table in state.items():
        if not key.endswith('relative_position_bias_table') or key not in target:
            continue
        (l1, heads1), (l2, heads2) = table.shape, target[key].shape
        if heads1 == heads2 and l1 != l2:
            s1, s2 = int(l1**0.5), int(l2**0.5)
            grid = table.permute(1, 0).reshape(1, heads1, s1, s1)
            grid = F.interpolate(grid, size=(s2, s2), mode='bicubic', align_corners=False)
            state[key] = grid.view(heads2, l2).permute(1, 0).contiguous()
            logger.info(f'resized {key} from {l1} to {l2} entries (another window size)')


def load_swin_pretrained(backbone: nn.Module, checkpoint: str, convert_weights: bool,
                         logger: logging.Logger) -> None:
    """Load a Swin checkpoint into ``backbone``; fail loudly when it does not fit.

    Raises:
        CheckpointError: a local file that is not a readable checkpoint.
        ValueError: no backbone parameter in the checkpoint, or required ones missing.
        RuntimeError: a parameter of the wrong shape.
    """
    with clear_checkpoint_errors():
        raw = CheckpointLoader.load_checkpoint(checkpoint, map_location='cpu', logger=logger)
    state = extract_backbone_state(raw, convert_weights)
    target = backbone.state_dict()
    if not any(k in target for k in state):
        hint = '' if convert_weights else '; for the original Swin release set convert_weights=True'
        raise ValueError(f'{checkpoint} holds no parameter of a Swin backbone (its first keys: '
                         f'{first_keys(state, 4)}){hint}')
    _resize_bias_tables(state, target, logger)
    try:
        missing, unexpected = backbone.load_state_dict(state, strict=False)
    except RuntimeError as err:
        raise RuntimeError(f'{checkpoint} does not fit {type(backbone).__name__}: {err}') from err
    missing = [k for k in missing if not k.endswith('relative_position_index')]
    required = [k for k in missing if not OUTPUT_NORM_KEYS.match(k)]
    if required:
        raise ValueError(f'{checkpoint} lacks {len(required)} backbone parameters: '
                         f'{first_keys(required)}')
    if missing:
        logger.warning(f'{checkpoint}: not in the checkpoint, left at their init: '
                       f'{first_keys(missing)}')
    if unexpected:
        logger.warning(f'{checkpoint}: ignored keys that the backbone does not have: '
                       f'{first_keys(unexpected)}')
    logger.info(f'loaded {len(state) - len(unexpected)} backbone tensors from {checkpoint}')
