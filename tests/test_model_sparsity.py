import pytest
import torch
import torch.distributed as dist
from mmdet.registry import MODELS as MMDET_MODELS
from mmengine.config import Config
from mmengine.registry import init_default_scope
from torch.nn.parallel import DistributedDataParallel

from sparsevit import (NoSparseBackboneError, SearchSpace, SparseSwinTransformer, SparsityError,
                       get_search_space, get_sparsity, set_sparsity, sparse_backbones)

SEARCHED = [0.6, 0.0, [0.2, 0.2, 0.4, 0.4, 0.5, 0.5], 0.0]


@pytest.fixture(scope='module')
def mask_rcnn(tmp_path_factory):
    """mmdet's Swin-T Mask R-CNN with the sparse backbone, built from a pkg:: base config."""
    path = tmp_path_factory.mktemp('cfg') / 'mask_rcnn_sparse.py'
    path.write_text("_base_ = 'mmdet::swin/mask-rcnn_swin-t-p4-w7_fpn_1x_coco.py'\n"
                    "custom_imports = dict(imports=['sparsevit'], allow_failed_imports=False)\n"
                    "model = dict(backbone=dict(type='SparseSwinTransformer', init_cfg=None))\n")
    cfg = Config.fromfile(str(path))
    init_default_scope('mmdet')
    return MMDET_MODELS.build(cfg.model)


def test_get_and_set_through_a_detector(mask_rcnn):
    assert isinstance(mask_rcnn.backbone, SparseSwinTransformer)
    assert get_sparsity(mask_rcnn) == [0.0, 0.0, 0.0, 0.0]
    set_sparsity(mask_rcnn, SEARCHED)
    assert get_sparsity(mask_rcnn) == SEARCHED
    assert mask_rcnn.backbone.sparsity == SEARCHED
    set_sparsity(mask_rcnn, {'stage3.pair0': 0.3})
    assert get_sparsity(mask_rcnn) == [0.0, 0.0, 0.0, 0.3]
    set_sparsity(mask_rcnn, None)


def test_invalid_configuration_leaves_the_model_unchanged(mask_rcnn):
    set_sparsity(mask_rcnn, SEARCHED)
    with pytest.raises(SparsityError, match=r"unknown gene 'stage2.pair3'"):
        set_sparsity(mask_rcnn, {'stage2.pair3': 0.5})
    with pytest.raises(SparsityError, match='decreases with depth'):
        set_sparsity(mask_rcnn, [0, 0, [0.5, 0.5, 0.4, 0.4, 0.4, 0.4], 0])
    assert get_sparsity(mask_rcnn) == SEARCHED
    set_sparsity(mask_rcnn, None)


def test_search_space_of_a_model(mask_rcnn):
    space = get_search_space(mask_rcnn)
    assert isinstance(space, SearchSpace)
    assert [g.name for g in space.genes][:2] == ['stage0.pair0', 'stage1.pair0']
    assert get_search_space(mask_rcnn, choices=(0, 0.5)).choices == (0.0, 0.5)


def test_models_without_sparse_backbone_are_reported():
    with pytest.raises(NoSparseBackboneError, match='Linear contains no SparseSwinTransformer '
                       'backbone; its backbone must be a SparseSwinTransformer'):
        get_sparsity(torch.nn.Linear(2, 2))
    assert issubclass(NoSparseBackboneError, ValueError)  # callers that catch ValueError


def test_a_model_without_sparse_backbone_is_named_with_its_config(tmp_path):
    path = tmp_path / 'dense_swin.py'
    path.write_text("default_scope = 'mmdet'\n")
    model = torch.nn.Linear(2, 2)
    model.cfg = Config.fromfile(path)
    with pytest.raises(NoSparseBackboneError, match=r'^Linear of .*/dense_swin\.py contains no'):
        sparse_backbones(model)


def test_several_backbones_are_set_together_and_disagreement_is_reported(tiny_swin_kwargs):
    pair = torch.nn.ModuleList([SparseSwinTransformer(**tiny_swin_kwargs) for _ in range(2)])
    set_sparsity(pair, [0.5, 0, 0, 0])
    assert [b.sparsity for b in pair] == [[0.5, 0.0, 0.0, 0.0]] * 2
    pair[1].sparsity = [0.3, 0, 0, 0]
    with pytest.raises(ValueError, match='different configurations'):
        get_sparsity(pair)


@pytest.fixture
def gloo_group(tmp_path):
    dist.init_process_group('gloo', init_method=f'file://{tmp_path}/store', rank=0,
                            world_size=1)
    yield
    dist.destroy_process_group()


def test_ddp_wrapped_backbone_trains_and_is_configurable(tiny_swin_kwargs, gloo_group):
    backbone = SparseSwinTransformer(**tiny_swin_kwargs)
    ddp = DistributedDataParallel(backbone)
    set_sparsity(ddp, [0.5, 0.5, [0.25, 0.25, 0.5, 0.5], 0])
    assert get_sparsity(ddp) == backbone.sparsity == [0.5, 0.5, [0.25, 0.25, 0.5, 0.5], 0.0]
    loss = sum(out.mean() for out in ddp(torch.randn(2, 3, 128, 128)))
    loss.backward()
    assert all(p.grad is not None for p in backbone.parameters())
