import warnings

import pytest
import torch
from mmdet.models.backbones import SwinTransformer

from sparsevit import SparseSwinTransformer, SparsityError
from sparsevit.presets import SWIN_ARCHS

from .reference import randomize_, reference_forward


def dense_and_sparse(**kwargs):
    dense = randomize_(SwinTransformer(**kwargs))
    dense.init_weights()
    randomize_(dense)
    sparse = SparseSwinTransformer(**kwargs)
    sparse.load_state_dict(dense.state_dict())
    dense.eval()  # mmdet's train() returns None: no chaining
    return dense, sparse.eval()


@pytest.mark.parametrize('shape', [(1, 3, 224, 224), (2, 3, 160, 250), (1, 3, 97, 130)])
def test_all_zero_configuration_equals_mmdet_swin(shape):
    dense, sparse = dense_and_sparse(**SWIN_ARCHS['swin-t'])
    images = torch.randn(shape)
    with torch.no_grad():
        expected, outs = dense(images), sparse(images)
    assert len(outs) == 4
    for e, o in zip(expected, outs):
        assert o.shape == e.shape
        assert (o - e).abs().max().item() <= 1e-5


@pytest.mark.parametrize('sparsity', [
    [0.5, 0.25, [0.25, 0.25, 0.5, 0.5], 0],
    [0.8, 0.5, [0.0, 0.3, 0.3, 0.7], 0.5],
    {'stage0.pair0': 0.3, 'stage2.pair1': 0.6},
])
@pytest.mark.parametrize('shape', [(2, 3, 128, 128), (3, 3, 90, 150)])
def test_sparse_configurations_match_reference(tiny_swin_kwargs, sparsity, shape):
    dense, sparse = dense_and_sparse(**tiny_swin_kwargs)
    dense, sparse = dense.double(), sparse.double()
    sparse.sparsity = sparsity
    images = torch.randn(shape, dtype=torch.float64)
    with torch.no_grad():
        expected = reference_forward(dense, sparse.block_ratios, images)
        outs = sparse(images)
    for e, o in zip(expected, outs):
        torch.testing.assert_close(o, e, rtol=0, atol=1e-9)


@pytest.mark.parametrize('sparsity, changes_stage0', [
    ([0.5, 0.25, 0.5, 0], True),
    ([[0.0, 0.5], 0.5, 0.5, 0.5], False),  # stage 0 scores the first block's output as before
])
def test_scoring_before_patch_norm_matches_reference(tiny_swin_kwargs, sparsity, changes_stage0):
    dense, sparse = dense_and_sparse(**tiny_swin_kwargs)
    dense, sparse = dense.double(), sparse.double()
    sparse.sparsity = sparsity
    images = torch.randn(2, 3, 90, 150, dtype=torch.float64)
    with torch.no_grad():
        paper_rule = sparse(images)
        sparse.score_before_patch_norm = True
        expected = reference_forward(dense, sparse.block_ratios, images,
                                     score_before_patch_norm=True)
        outs = sparse(images)
    for e, o in zip(expected, outs):
        torch.testing.assert_close(o, e, rtol=0, atol=1e-9)
    changed = not torch.equal(outs[0], paper_rule[0])
    assert changed == changes_stage0


def test_scoring_before_patch_norm_ranks_by_the_unnormalised_embedding(tiny_swin_kwargs):
    """The norm hides a bright, busy patch; the raw embedding does not."""
    _, sparse = dense_and_sparse(**tiny_swin_kwargs)
    images = torch.zeros(1, 3, 32, 32)  # 2 x 2 stage-0 windows of 16 x 16 pixels
    images[..., 20:28, 20:28] = 10 * torch.randn(3, 8, 8)  # detail in the last window only
    sparse.sparsity = [0.75, 0, 0, 0]  # keeps 1 of the 4 stage-0 windows
    sparse.score_before_patch_norm = True
    with torch.no_grad(), sparse.recording_windows() as forwards:
        sparse(images)
    assert forwards[0][0][0]['kept'].tolist() == [[3]]


def test_pruning_changes_outputs_but_keeps_shapes(tiny_swin_kwargs):
    _, sparse = dense_and_sparse(**tiny_swin_kwargs)
    images = torch.randn(2, 3, 128, 128)
    with torch.no_grad():
        dense_outs = sparse(images)
        sparse.sparsity = [0.5, 0.5, 0.5, 0]
        sparse_outs = sparse(images)
    for d, s in zip(dense_outs, sparse_outs):
        assert d.shape == s.shape
    assert not torch.allclose(dense_outs[0], sparse_outs[0])


def test_sparsity_attribute_validates_and_reads_back(tiny_swin_kwargs):
    backbone = SparseSwinTransformer(**tiny_swin_kwargs, sparsity=[0.6, 0, [0.2, 0.2, 0.4, 0.4], 0])
    assert backbone.sparsity == [0.6, 0.0, [0.2, 0.2, 0.4, 0.4], 0.0]
    assert backbone.block_ratios[2] == (0.2, 0.2, 0.4, 0.4)
    with pytest.raises(SparsityError, match='stage 2 lists 6 ratios but stage 2 has 4 blocks'):
        backbone.sparsity = [0.6, 0, [0.2] * 6, 0]
    assert backbone.sparsity == [0.6, 0.0, [0.2, 0.2, 0.4, 0.4], 0.0]  # unchanged
    with pytest.raises(SparsityError, match='outside'):
        SparseSwinTransformer(**tiny_swin_kwargs, sparsity=[1.2, 0, 0, 0])


def test_wrong_image_shape_is_reported(tiny_swin_kwargs):
    backbone = SparseSwinTransformer(**tiny_swin_kwargs)
    with pytest.raises(ValueError,
                       match=r'expects images of shape \(B, 3, H, W\), got \(3, 64, 64\)'):
        backbone(torch.randn(3, 64, 64))
    with pytest.raises(ValueError, match=r'got \(1, 1, 64, 64\)'):
        backbone(torch.randn(1, 1, 64, 64))


SPARSE = [0.5, 0.5, [0.25, 0.25, 0.5, 0.5], 0]  # every block keeps >= 1 window at 128 x 128


def _loss_and_grads(backbone, images):
    backbone.zero_grad()
    loss = sum((out**2).mean() for out in backbone(images))
    loss.backward()
    return loss.detach(), {n: p.grad.clone() for n, p in backbone.named_parameters()
                           if p.grad is not None}


def test_gradients_reach_every_parameter_of_kept_windows(tiny_swin_kwargs):
    backbone = SparseSwinTransformer(**tiny_swin_kwargs, sparsity=SPARSE).train()
    randomize_(backbone)
    _, grads = _loss_and_grads(backbone, torch.randn(2, 3, 128, 128))
    names = [n for n, p in backbone.named_parameters() if p.requires_grad]
    assert set(grads) == set(names)
    assert all(grads[n].abs().sum() > 0 for n in names)


def test_with_cp_gives_the_same_outputs_and_gradients(tiny_swin_kwargs):
    kwargs = dict(tiny_swin_kwargs, drop_path_rate=0.0)
    plain = SparseSwinTransformer(**kwargs, sparsity=SPARSE).train()
    randomize_(plain)
    checkpointed = SparseSwinTransformer(**kwargs, sparsity=SPARSE, with_cp=True).train()
    checkpointed.load_state_dict(plain.state_dict())
    images = torch.randn(2, 3, 128, 128)
    loss_a, grads_a = _loss_and_grads(plain, images)
    loss_b, grads_b = _loss_and_grads(checkpointed, images)
    torch.testing.assert_close(loss_a, loss_b)
    for name in grads_a:
        torch.testing.assert_close(grads_a[name], grads_b[name], rtol=1e-4, atol=1e-6)


def test_drop_path_trains_per_image(tiny_swin_kwargs):
    backbone = SparseSwinTransformer(**dict(tiny_swin_kwargs, drop_path_rate=0.5),
                                     sparsity=SPARSE).train()
    images = torch.randn(4, 3, 128, 128)
    first = backbone(images)[3]  # the last stage has the highest drop rates (~0.5)
    second = backbone(images)[3]
    assert not torch.allclose(first, second)  # stochastic in training
    per_image_change = (first - second).flatten(1).abs().amax(1)
    assert per_image_change.min() < per_image_change.max()  # draws differ between images
    backbone.eval()
    with torch.no_grad():
        torch.testing.assert_close(backbone(images)[3], backbone(images)[3])


def test_frozen_stages(tiny_swin_kwargs):
    backbone = SparseSwinTransformer(**tiny_swin_kwargs, frozen_stages=1, sparsity=SPARSE)
    backbone.train()
    assert not any(p.requires_grad for p in backbone.patch_embed.parameters())
    assert not any(p.requires_grad for p in backbone.stages[0].parameters())
    assert not backbone.stages[0].training and backbone.stages[1].training
    _, grads = _loss_and_grads(backbone, torch.randn(1, 3, 128, 128))
    assert not any(n.startswith(('patch_embed.', 'stages.0.')) for n in grads)
    assert any(n.startswith('stages.1.') for n in grads)


def cpu_autocast_supports(dtype: torch.dtype) -> bool:
    """Whether this torch autocasts to ``dtype`` on the CPU (fp16 only from torch 2.2 on)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            with torch.autocast('cpu', dtype=dtype):
                return True
    except RuntimeError:
        return False


@pytest.mark.parametrize('dtype', [torch.bfloat16, torch.float16])
def test_autocast(tiny_swin_kwargs, dtype):
    if not cpu_autocast_supports(dtype):
        pytest.skip(f'torch {torch.__version__} has no CPU autocast to {dtype}')
    backbone = SparseSwinTransformer(**tiny_swin_kwargs, sparsity=SPARSE).eval()
    images = torch.randn(2, 3, 128, 128)
    with torch.no_grad():
        reference = backbone(images)
        with torch.autocast('cpu', dtype=dtype):
            outs = backbone(images)
    for r, o in zip(reference, outs):
        assert torch.isfinite(o).all()
        assert (o.float() - r).abs().mean() < 0.05 * r.abs().mean()
    backbone.train()
    with torch.autocast('cpu', dtype=dtype):
        loss = sum(o.float().mean() for o in backbone(images))
    loss.backward()
    assert backbone.stages[0].blocks[0].attn.w_msa.qkv.weight.grad is not None
