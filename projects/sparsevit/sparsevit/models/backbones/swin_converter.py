"""Convert Swin checkpoints of the original release and of timm to mmdet's names.

Three layouts of Swin Transformer (V1) weights are recognised:

``mmdet``
    mmdet / mmseg / mmpretrain ``SwinTransformer`` (and ``SparseSwinTransformer``):
    ``stages.{i}.blocks.{j}.attn.w_msa.qkv``, ``ffn.layers.0.0``, the patch
    merging ``stages.{i}.downsample`` at the end of stage ``i`` with the
    channel order of ``nn.Unfold``, ``patch_embed.projection``.
``original``
    The Microsoft release (and timm before 0.9): ``layers.{i}.blocks.{j}.attn.qkv``,
    ``mlp.fc1``, ``layers.{i}.downsample`` at the end of stage ``i``,
    ``patch_embed.proj``, a final ``norm`` and a classifier ``head``.
``timm``
    timm >= 0.9: the names of the original release, but the patch merging is
    the first module of the next stage (``layers.{i+1}.downsample``) and the
    classifier is ``head.fc``.

The result of :func:`convert_swin_state_dict` is keyed without any prefix,
exactly as the parameters of mmdet's ``SwinTransformer``.
"""
import re
from collections import OrderedDict
from collections.abc import Mapping
from typing import Optional

from mmdet.models.backbones.swin import swin_converter
from torch import Tensor

LAYOUTS = ('mmdet', 'original', 'timm')

# keys an mmdet SwinTransformer can hold; anything else after a conversion is an error
_MMDET_KEY = re.compile(r'^(patch_embed\.(projection|norm)\.|absolute_pos_embed$|'
                        r'stages\.\d+\.(blocks\.\d+|downsample)\.|norm\d+\.)')
# buffers derived from the window size / feature size: the backbone builds its own
_BUFFER_SUFFIXES = ('relative_position_index', 'attn_mask')
# Swin V2 parameters: another architecture that mmdet's SwinTransformer cannot hold
_SWIN_V2_MARKERS = ('cpb_mlp', 'logit_scale', 'q_bias')

# Offsets (row, column) inside each 2 x 2 neighbourhood of the four channel groups that a
# patch merging concatenates before its norm and reduction, in the order of its input
# channels. timm >= 0.9 reshapes to (H/2, 2, W/2, 2, C) and permutes the column offset
# before the row offset: x[0::2, 0::2], x[1::2, 0::2], x[0::2, 1::2], x[1::2, 1::2], the
# groups and order of the original release (whose checkpoints mmdet's own converter
# reorders). It lays the input out group-major (group * C + channel), whereas nn.Unfold
# (mmdet) is channel-major with the offsets in row-major order (channel * 4 + row * 2 + column).
TIMM_MERGE_OFFSETS = ((0, 0), (1, 0), (0, 1), (1, 1))
_UNFOLD_OFFSETS = ((0, 0), (0, 1), (1, 0), (1, 1))


def first_keys(keys, limit: int = 6) -> str:
    """The first ``limit`` of ``keys`` and their count, for error messages."""
    keys = list(keys)
    shown = ', '.join(keys[:limit])
    return (shown + (f', ... ({len(keys)} in all)' if len(keys) > limit else '')) or '(none)'


def unwrap_state_dict(checkpoint: Mapping) -> 'OrderedDict[str, Tensor]':
    """The state dict inside a checkpoint, without a DDP ``module.`` prefix.

    Descends into ``state_dict`` / ``model`` entries (as saved by mmengine,
    the original release and timm's training script), in any nesting.
    """
    state = checkpoint
    while isinstance(state, Mapping):
        inner = next((state[k] for k in ('state_dict', 'model')
                      if isinstance(state.get(k), Mapping)), None)
        if inner is None:
            break
        state = inner
    if not isinstance(state, Mapping):
        raise ValueError(f'expected a state dict (a mapping of names to tensors), got '
                         f'{type(state).__name__}')
    return OrderedDict((k[7:] if k.startswith('module.') else k, v) for k, v in state.items())


def backbone_only(state: 'OrderedDict[str, Tensor]') -> 'OrderedDict[str, Tensor]':
    """Strip the ``backbone.`` prefix of a detector / classifier checkpoint."""
    if any(k.startswith('backbone.') for k in state):
        return OrderedDict((k[9:], v) for k, v in state.items() if k.startswith('backbone.'))
    return state


def detect_swin_layout(state_dict: Mapping) -> str:
    """Which layout of Swin weights ``state_dict`` has: 'mmdet', 'original' or 'timm'.

    Wrapped checkpoints (``state_dict`` / ``model`` entries, ``module.`` or
    ``backbone.`` prefixes) are accepted. The original release and timm share
    their parameter names and are told apart by where the patch merging sits:
    the original has one at the end of stage 0 (``layers.0.downsample``),
    timm >= 0.9 none before stage 1 (``layers.1.downsample``). A checkpoint
    without any patch merging (a single stage) converts the same either way
    and is reported as 'original'.

    Raises:
        ValueError: the keys are of none of these layouts (their first ones
            are in the message), or of Swin Transformer V2.
    """
    state = backbone_only(unwrap_state_dict(state_dict))
    keys = list(state)
    if any(marker in k for k in keys for marker in _SWIN_V2_MARKERS):
        raise ValueError('this looks like a Swin Transformer V2 checkpoint (it has '
                         f'{"/".join(_SWIN_V2_MARKERS)} parameters), which mmdet\'s '
                         f'SwinTransformer cannot hold; first keys: {first_keys(keys)}')
    if any(k.startswith(('stages.', 'patch_embed.projection.')) for k in keys):
        return 'mmdet'
    if any(re.match(r'layers\.\d+\.blocks\.\d+\.', k) for k in keys):
        merges = {int(m.group(1)) for k in keys
                  if (m := re.match(r'layers\.(\d+)\.downsample\.', k))}
        if merges and 0 not in merges:
            return 'timm'
        return 'original'
    raise ValueError('not a Swin Transformer state dict of a known layout (expected keys like '
                     "'stages.0.blocks.0.attn.w_msa.qkv.weight' (mmdet) or "
                     "'layers.0.blocks.0.attn.qkv.weight' (original release / timm)); "
                     f'first keys: {first_keys(keys)}')


def _merge_to_unfold(tensor: Tensor, offsets) -> Tensor:
    """Reorder the last (4 * C) dim of a patch-merging tensor to nn.Unfold's channel order."""
    groups = [offsets.index(offset) for offset in _UNFOLD_OFFSETS]
    *lead, four_c = tensor.shape
    if four_c % 4:
        raise ValueError(f'a patch-merging tensor of shape {tuple(tensor.shape)} does not '
                         'have 4 * C input channels')
    grouped = tensor.reshape(*lead, 4, four_c // 4)[..., groups, :]  # (..., group, channel)
    return grouped.transpose(-1, -2).reshape(*lead, four_c).contiguous()  # channel-major


_TIMM_BLOCK_RENAMES = (('attn.', 'attn.w_msa.'), ('mlp.fc1.', 'ffn.layers.0.0.'),
                       ('mlp.fc2.', 'ffn.layers.1.'), ('norm1.', 'norm1.'), ('norm2.', 'norm2.'))


def _convert_timm(state: Mapping) -> 'OrderedDict[str, Tensor]':
    out = OrderedDict()
    unknown = []
    for key, value in state.items():
        if key.startswith(('head.', 'norm.')):
            continue  # classifier and the final norm before pooling
        if key.startswith('patch_embed.'):
            out[key.replace('patch_embed.proj.', 'patch_embed.projection.')] = value
            continue
        block = re.match(r'layers\.(\d+)\.blocks\.(\d+)\.(.+)$', key)
        if block:
            stage, index, rest = block.groups()
            for old, new in _TIMM_BLOCK_RENAMES:
                if rest.startswith(old):
                    out[f'stages.{stage}.blocks.{index}.{new}{rest[len(old):]}'] = value
                    break
            else:
                unknown.append(key)
            continue
        merge = re.match(r'layers\.(\d+)\.downsample\.(reduction|norm)\.(weight|bias)$', key)
        if merge and int(merge.group(1)) > 0:
            stage, module, param = merge.groups()
            # the norm and the reduction's input columns see the concatenated channels; a
            # reduction bias (timm has none) is indexed by output channel and stays as is
            if module == 'norm' or param == 'weight':
                value = _merge_to_unfold(value, TIMM_MERGE_OFFSETS)
            out[f'stages.{int(stage) - 1}.downsample.{module}.{param}'] = value
            continue
        unknown.append(key)
    if unknown:
        raise ValueError(f'keys of no known role in a timm Swin checkpoint: {first_keys(unknown)}')
    return out


def _convert_original(state: Mapping) -> 'OrderedDict[str, Tensor]':
    state = OrderedDict((k, v) for k, v in state.items() if not k.startswith(('head.', 'norm.')))
    return OrderedDict((k[9:], v) for k, v in swin_converter(state).items())


def convert_swin_state_dict(state_dict: Mapping,
                            layout: Optional[str] = None) -> 'OrderedDict[str, Tensor]':
    """Swin V1 weights keyed as the parameters of mmdet's ``SwinTransformer``.

    Args:
        state_dict: a state dict or a checkpoint holding one (under
            ``state_dict`` or ``model``, keys possibly prefixed by ``module.``
            or, for mmdet layouts, ``backbone.``).
        layout: 'mmdet', 'original' or 'timm'; None detects it with
            :func:`detect_swin_layout`.

    Returns:
        The backbone tensors, keyed without prefix (``patch_embed.projection.weight``,
        ``stages.0.blocks.0.attn.w_msa.qkv.weight``, ...). Classification-only
        entries (``head.*``, the final ``norm.*``) and the buffers
        ``relative_position_index`` / ``attn_mask`` are dropped; patch-merging
        weights are moved to the stage that ends with them and reordered to the
        channel order of mmdet's ``nn.Unfold``-based ``PatchMerging``.

    Raises:
        ValueError: an unknown layout, or keys that have no place in the backbone.
    """
    if layout is not None and layout not in LAYOUTS:
        raise ValueError(f'unknown Swin layout {layout!r}; expected one of {", ".join(LAYOUTS)}')
    state = unwrap_state_dict(state_dict)
    if layout is None:
        layout = detect_swin_layout(state)
    if layout == 'mmdet':
        state = backbone_only(state)
    state = OrderedDict((k, v) for k, v in state.items() if not k.endswith(_BUFFER_SUFFIXES))
    if layout == 'timm':
        converted = _convert_timm(state)
    elif layout == 'original':
        converted = _convert_original(state)
    else:
        converted = state
    stray = [k for k in converted if not _MMDET_KEY.match(k)]
    if stray:
        raise ValueError(f'keys of no mmdet SwinTransformer parameter after converting the '
                         f'{layout!r} layout: {first_keys(stray)}')
    if not converted:
        raise ValueError(f'no Swin backbone tensor found in the {layout!r} layout; '
                         f'first keys: {first_keys(state)}')
    _check_merges(converted, layout)
    return converted


def _check_merges(state: Mapping, layout: str) -> None:
    """mmdet's patch merging ends every stage but the last: a forced wrong layout breaks that."""
    stages = {int(m.group(1)) for k in state if (m := re.match(r'stages\.(\d+)\.blocks\.', k))}
    merges = {int(m.group(1)) for k in state if (m := re.match(r'stages\.(\d+)\.downsample\.', k))}
    if stages and max(stages) in merges:
        other = {'original': 'timm', 'timm': 'original'}.get(layout)
        hint = f" (is it the {other!r} layout?)" if other else ''
        raise ValueError(f'the {layout!r} layout puts a patch merging after the last stage '
                         f'{max(stages)}, which mmdet\'s SwinTransformer does not have{hint}')
