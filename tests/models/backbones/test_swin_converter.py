"""Swin checkpoints of timm (>= 0.9) and of the original release, converted to mmdet's names.

The reference is a real timm ``swin_tiny_patch4_window7_224`` (random weights,
no download): its stage outputs must be reproduced by ``SparseSwinTransformer``
loaded with the converted weights. The original-release layout is derived from
the timm one and proven faithful with timm's own original -> timm converter.
"""
import re

import pytest
import timm
import torch
from mmdet.models.backbones import SwinTransformer
from mmdet.models.layers import PatchMerging as MMDetPatchMerging
from timm.models.swin_transformer import PatchMerging as TimmPatchMerging
from timm.models.swin_transformer import checkpoint_filter_fn

from sparsevit import SparseSwinTransformer
from sparsevit.models.backbones.sparse_stage import stage_geometry
from sparsevit.models.backbones.swin_converter import convert_swin_state_dict, detect_swin_layout
from sparsevit.models.backbones.window_geometry import from_windows

from .reference import randomize_

SWIN_T = dict(embed_dims=96, depths=(2, 2, 6, 2), num_heads=(3, 6, 12, 24), window_size=7)
ATOL = 1e-4


# ---------------------------------------------------------------------------- helpers
# (also used by tests/tools/test_swin_to_sparsevit.py)

def make_timm_swin_t(seed: int = 0) -> torch.nn.Module:
    """timm's Swin-T with non-trivial norms, biases and relative position tables, in eval mode."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = timm.create_model('swin_tiny_patch4_window7_224', pretrained=False)
        randomize_(model)
    return model.eval()


def timm_reference_outputs(model: torch.nn.Module, images: torch.Tensor) -> list[torch.Tensor]:
    """Output of every timm stage, ``(B, H * W, C)``, with the last stage shifted as in mmdet.

    At 224 x 224 the last feature map (7 x 7) is one window: timm (like the
    original release) then turns the shift of its second block off, mmdet's
    SwinTransformer keeps shifting (with the region mask). ``always_partition``
    makes timm shift too; it changes no parameter and nothing in stages 0-2.
    """
    model.set_input_size(always_partition=True)
    try:
        return timm_stage_outputs(model, images)
    finally:
        model.set_input_size(always_partition=False)


def timm_stage_outputs(model: torch.nn.Module, images: torch.Tensor) -> list[torch.Tensor]:
    """timm's ``layers[i]`` outputs (NHWC) as ``(B, H * W, C)``: after the blocks of stage i."""
    captured = {}
    hooks = [layer.register_forward_hook(
        lambda module, args, out, i=i: captured.__setitem__(i, out.flatten(1, 2)))
        for i, layer in enumerate(model.layers)]
    try:
        with torch.no_grad():
            model.forward_features(images)
    finally:
        for hook in hooks:
            hook.remove()
    return [captured[i] for i in range(len(model.layers))]


def our_stage_outputs(backbone: torch.nn.Module, images: torch.Tensor) -> list[torch.Tensor]:
    """Inputs of the output norms ``norm{i}`` as ``(B, H * W, C)`` tokens: stage i after its
    blocks, before its downsample (the sparse backbone's norms take the window layout)."""
    captured = {}
    hooks = [getattr(backbone, f'norm{i}').register_forward_pre_hook(
        lambda module, args, i=i: captured.__setitem__(i, args[0]))
        for i in range(len(backbone.stages))]
    try:
        backbone.eval()  # mmdet's SwinTransformer.train returns None: no chaining
        with torch.no_grad():
            backbone(images)
    finally:
        for hook in hooks:
            hook.remove()
    if not isinstance(backbone, SparseSwinTransformer):  # mmdet's: tokens already
        return [captured[i] for i in range(len(backbone.stages))]
    batch, grid = images.shape[0], (images.shape[2] // 4, images.shape[3] // 4)
    outputs = []
    for i, stage in enumerate(backbone.stages):
        hw_shape = (-(-grid[0] // 2**i), -(-grid[1] // 2**i))
        geo = stage_geometry(stage.blocks, hw_shape, images.device)
        outputs.append(from_windows(captured[i], batch, geo))
    return outputs


def assert_same_stage_outputs(ours: list[torch.Tensor], reference: list[torch.Tensor]) -> None:
    assert len(ours) == len(reference) == 4
    for i, (a, b) in enumerate(zip(ours, reference)):
        assert a.shape == b.shape, f'stage {i}: {tuple(a.shape)} != {tuple(b.shape)}'
        torch.testing.assert_close(a, b, rtol=0, atol=ATOL, msg=lambda m, i=i: f'stage {i}: {m}')


def timm_to_original(timm_state: dict, model: torch.nn.Module) -> dict:
    """The original Microsoft release layout of a timm >= 0.9 Swin state dict.

    Patch merging back at the end of the previous stage, the classifier as
    ``head`` and, as in the released files, the persistent buffers of the
    original code (``relative_position_index`` of every block, ``attn_mask``
    of the shifted ones), taken from the timm model.
    """
    original = {}
    for key, value in timm_state.items():
        key = re.sub(r'^layers\.(\d+)\.downsample\.',
                     lambda m: f'layers.{int(m.group(1)) - 1}.downsample.', key)
        original[key.replace('head.fc.', 'head.')] = value
    for name, buffer in model.named_buffers():
        if name.endswith(('relative_position_index', 'attn_mask')):
            original[name] = buffer.clone()
    return original


def load_converted(state: dict, **kwargs) -> SparseSwinTransformer:
    """``SparseSwinTransformer`` (Swin-T) strictly loaded with ``state`` and nothing else.

    Only the detection output norms and the index buffers that the backbone
    derives from its window size may be absent from ``state``.
    """
    backbone = SparseSwinTransformer(**SWIN_T, **kwargs)
    full = backbone.state_dict()
    assert set(state) <= set(full), sorted(set(state) - set(full))[:5]
    absent = set(full) - set(state)
    assert all(re.match(r'norm[0-3]\.(weight|bias)$', k) or k.endswith('relative_position_index')
               for k in absent), sorted(absent)[:5]
    assert len([k for k in absent if k.startswith('norm')]) == 8
    full.update(state)
    backbone.load_state_dict(full, strict=True)
    return backbone.eval()


# ---------------------------------------------------------------------------- fixtures

@pytest.fixture(scope='module')
def timm_swin():
    return make_timm_swin_t()


@pytest.fixture(scope='module')
def timm_state(timm_swin):
    return timm_swin.state_dict()


@pytest.fixture(scope='module')
def images():
    return torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(1))


@pytest.fixture(scope='module')
def reference(timm_swin, images):
    return timm_reference_outputs(timm_swin, images)


# ---------------------------------------------------------------------------- layouts

def test_detects_the_three_layouts_through_any_wrapping(timm_swin, timm_state, tiny_swin_kwargs):
    original = timm_to_original(timm_state, timm_swin)
    mmdet_state = SwinTransformer(**tiny_swin_kwargs).state_dict()
    assert detect_swin_layout(timm_state) == 'timm'
    assert detect_swin_layout({'model': timm_state}) == 'timm'
    assert detect_swin_layout({'state_dict': {'module.' + k: v for k, v in timm_state.items()}}) \
        == 'timm'
    assert detect_swin_layout(original) == 'original'
    assert detect_swin_layout({'model': original}) == 'original'
    assert detect_swin_layout(mmdet_state) == 'mmdet'
    detector = {'backbone.' + k: v for k, v in mmdet_state.items()}
    detector['neck.fpn_convs.0.conv.weight'] = torch.zeros(1)
    assert detect_swin_layout({'meta': {}, 'state_dict': detector}) == 'mmdet'


def test_unknown_layouts_are_refused_with_their_first_keys(timm_state):
    resnet = dict.fromkeys(('conv1.weight', 'bn1.weight', 'fc.weight'), torch.zeros(1))
    with pytest.raises(ValueError, match=r'not a Swin Transformer.*first keys: conv1\.weight, '
                                         r'bn1\.weight, fc\.weight'):
        detect_swin_layout(resnet)
    with pytest.raises(ValueError, match='not a Swin Transformer'):
        convert_swin_state_dict({'model': resnet})
    with pytest.raises(ValueError, match="unknown Swin layout 'swinv3'"):
        convert_swin_state_dict(timm_state, layout='swinv3')


def test_swin_v2_is_refused_rather_than_half_converted():
    v2 = timm.create_model('swinv2_tiny_window8_256', pretrained=False)
    with pytest.raises(ValueError, match='Swin Transformer V2'):
        convert_swin_state_dict(v2.state_dict())


def test_keys_of_no_backbone_role_are_refused(timm_state, tiny_swin_kwargs):
    extra = dict(timm_state, **{'layers.0.blocks.0.gamma_1': torch.zeros(96)})
    with pytest.raises(ValueError, match=r'no known role.*layers\.0\.blocks\.0\.gamma_1'):
        convert_swin_state_dict(extra)
    # forcing the wrong layout fails loudly instead of producing unusable names
    mmdet_state = SwinTransformer(**tiny_swin_kwargs).state_dict()
    with pytest.raises(ValueError, match='no mmdet SwinTransformer parameter'):
        convert_swin_state_dict(mmdet_state, layout='original')


def test_mmdet_layout_passes_through_without_prefix_and_buffers(tiny_swin_kwargs):
    dense = randomize_(SwinTransformer(**tiny_swin_kwargs))
    detector = {'backbone.' + k: v for k, v in dense.state_dict().items()}
    detector['neck.fpn_convs.0.conv.weight'] = torch.zeros(1)
    converted = convert_swin_state_dict({'state_dict': detector})
    expected = {k: v for k, v in dense.state_dict().items()
                if not k.endswith('relative_position_index')}
    assert list(converted) == list(expected)
    assert all(torch.equal(converted[k], v) for k, v in expected.items())


# ---------------------------------------------------------------------------- timm

def test_timm_patch_merging_channel_order():
    """timm's merging (norm + reduction over 4C channels) equals mmdet's once converted."""
    with torch.random.fork_rng():
        torch.manual_seed(3)
        theirs = randomize_(TimmPatchMerging(dim=8)).eval()  # out_dim = 2 * dim
        ours = MMDetPatchMerging(in_channels=8, out_channels=16, stride=2, bias=False,
                                 norm_cfg=dict(type='LN')).eval()
        x = torch.randn(2, 6, 10, 8)  # B, H, W, C
    state = {'layers.1.downsample.' + k: v for k, v in theirs.state_dict().items()}
    converted = convert_swin_state_dict(state, layout='timm')
    assert sorted(converted) == ['stages.0.downsample.norm.bias', 'stages.0.downsample.norm.weight',
                                 'stages.0.downsample.reduction.weight']
    ours.load_state_dict({k[len('stages.0.downsample.'):]: v for k, v in converted.items()})
    with torch.no_grad():
        expected = theirs(x).flatten(1, 2)
        out, hw = ours(x.flatten(1, 2), (6, 10))
    assert hw == (3, 5)
    torch.testing.assert_close(out, expected, rtol=0, atol=1e-5)


def test_timm_keys_are_renamed_moved_and_filtered(timm_state):
    converted = convert_swin_state_dict(timm_state)
    assert not any(k.startswith(('head', 'norm.', 'layers.')) for k in converted)
    assert not any(k.endswith(('relative_position_index', 'attn_mask')) for k in converted)
    merges = sorted({k.split('.downsample.')[0] for k in converted if '.downsample.' in k})
    assert merges == ['stages.0', 'stages.1', 'stages.2']  # the end of stage i, none after 3
    # the tensor of timm's layers.{i+1}.downsample, reordered but the same numbers
    moved = converted['stages.0.downsample.reduction.weight']
    source = timm_state['layers.1.downsample.reduction.weight']
    assert moved.shape == source.shape and not torch.equal(moved, source)
    assert torch.equal(moved.sort(dim=1).values, source.sort(dim=1).values)
    assert torch.equal(converted['stages.2.blocks.5.attn.w_msa.qkv.weight'],
                       timm_state['layers.2.blocks.5.attn.qkv.weight'])
    assert torch.equal(converted['stages.3.blocks.1.ffn.layers.0.0.bias'],
                       timm_state['layers.3.blocks.1.mlp.fc1.bias'])
    assert torch.equal(converted['patch_embed.projection.weight'],
                       timm_state['patch_embed.proj.weight'])


def test_timm_weights_reproduce_timm_stage_outputs(timm_state, images, reference):
    backbone = load_converted(convert_swin_state_dict(timm_state))
    assert_same_stage_outputs(our_stage_outputs(backbone, images), reference)


def test_last_stage_at_224_differs_from_timm_default_only_by_the_shift(
        timm_swin, timm_state, images):
    """Documents mmdet's behaviour: a 7 x 7 map with window 7 is still shifted (timm: not)."""
    backbone = load_converted(convert_swin_state_dict(timm_state))
    ours = our_stage_outputs(backbone, images)
    timm_default = timm_stage_outputs(timm_swin, images)
    for i in range(3):
        torch.testing.assert_close(ours[i], timm_default[i], rtol=0, atol=ATOL)
    assert (ours[3] - timm_default[3]).abs().max() > 1e-2


# ---------------------------------------------------------------------------- original

def test_original_layout_helper_is_the_inverse_of_timms_converter(timm_swin, timm_state):
    original = timm_to_original(timm_state, timm_swin)
    assert 'layers.0.downsample.reduction.weight' in original
    assert 'layers.3.downsample.norm.weight' not in original
    assert 'head.weight' in original and 'layers.0.blocks.1.attn_mask' in original
    back = checkpoint_filter_fn({'model': original}, timm_swin)
    assert list(back) == list(timm_state)
    assert all(torch.equal(back[k], v) for k, v in timm_state.items())


def test_original_weights_reproduce_timm_stage_outputs(timm_swin, timm_state, images, reference):
    original = timm_to_original(timm_state, timm_swin)
    converted = convert_swin_state_dict({'model': original})
    backbone = load_converted(converted)
    assert_same_stage_outputs(our_stage_outputs(backbone, images), reference)
    # both routes (mmdet's swin_converter, our timm mapping) give the same tensors
    from_timm = convert_swin_state_dict(timm_state)
    assert sorted(converted) == sorted(from_timm)
    assert all(torch.equal(converted[k], from_timm[k]) for k in converted)


def test_ddp_wrapped_checkpoints_convert_like_bare_ones(timm_state):
    bare = convert_swin_state_dict(timm_state)
    wrapped = convert_swin_state_dict(
        {'state_dict': {'module.' + k: v for k, v in timm_state.items()}, 'epoch': 300})
    assert list(wrapped) == list(bare)
    assert all(torch.equal(wrapped[k], v) for k, v in bare.items())


@pytest.mark.parametrize('layout', ['timm', 'original'])
def test_convert_weights_in_init_cfg_loads_either_layout(tmp_path, timm_swin, timm_state, images,
                                                         reference, layout):
    state = timm_state if layout == 'timm' else timm_to_original(timm_state, timm_swin)
    torch.save({'model': state}, tmp_path / f'{layout}.pth')
    backbone = SparseSwinTransformer(
        embed_dims=96, depths=(2, 2, 6, 2), num_heads=(3, 6, 12, 24), window_size=7,
        convert_weights=True,
        init_cfg=dict(type='Pretrained', checkpoint=str(tmp_path / f'{layout}.pth')))
    backbone.init_weights()
    assert_same_stage_outputs(our_stage_outputs(backbone.eval(), images), reference)
