"""The BEVDet-Tiny nuScenes configs build the sparse Swin-T composition and carry the recipe."""
from pathlib import Path

import pytest
from mmdet3d.registry import MODELS
from mmengine.config import Config
from mmengine.registry import init_default_scope

from sparsevit import SparseSwinTransformer, get_sparsity
from sparsevit.presets import REFERENCE_CONFIGS

CONFIGS = Path(__file__).parents[2] / 'configs' / 'bevdet'


def load(name: str) -> Config:
    return Config.fromfile(str(CONFIGS / f'bevdet-tiny_sparse-swin-t_8xb8-{name}_nus-3d.py'))


def build(cfg: Config):
    import sparsevit.bevdet  # noqa: F401  what custom_imports loads
    init_default_scope('mmdet3d')
    model_cfg = cfg.model.copy()
    model_cfg.img_backbone.init_cfg = None  # no download of ImageNet weights in tests
    return MODELS.build(model_cfg)


def test_dense_config_is_bevdet_tiny():
    cfg = load('24e')
    assert cfg.default_scope == 'mmdet3d'
    assert 'sparsevit.bevdet' in cfg.custom_imports.imports
    model = build(cfg)
    assert isinstance(model.img_backbone, SparseSwinTransformer)
    assert model.img_backbone.out_indices == (2, 3)
    assert model.view_transformer.grid.size == (128, 128, 1)
    assert model.view_transformer.num_depths == 59 and model.view_transformer.bev_channels == 64
    assert len(model.bbox_head.task_heads) == 6
    nms = model.bbox_head.task_nms  # BEVDet's: circle NMS for barriers, Scale-NMS elsewhere
    assert [n['type'] for n in nms] == ['rotate'] * 3 + ['circle'] + ['rotate'] * 2
    assert nms[5] == dict(type='rotate', thr=0.5, factors=[4.5, 9.0])
    assert [t.type for t in cfg.train_dataloader.dataset.pipeline][:2] == [
        'LoadMultiViewImageFromFiles', 'MultiViewImageAug']
    assert cfg.val_evaluator.type == 'NuScenesMetric'


@pytest.mark.parametrize('name, lr, hook', [('saa-8e', 2e-5, True), ('ft-24e', 2e-5, False)])
def test_saa_and_fine_tune_recipes(name, lr, hook):
    cfg = load(name)
    assert cfg.optim_wrapper.optimizer.lr == pytest.approx(lr)
    assert ('SparsityAdaptationHook' in {h.type for h in cfg.custom_hooks}) == hook
    expected = REFERENCE_CONFIGS['searched-0.6'] if name == 'ft-24e' else [0.0] * 4
    assert get_sparsity(build(cfg)) == expected
