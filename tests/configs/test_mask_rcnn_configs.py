"""The Mask R-CNN configs build, carry the recipe, and load mmdet / SparseViT checkpoints."""
from pathlib import Path

import pytest
import torch
from mmdet.registry import MODELS
from mmengine.config import Config
from mmengine.hub import get_config
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint

from sparsevit import SparseSwinTransformer, get_sparsity
from sparsevit.presets import REFERENCE_CONFIGS

CONFIGS = Path(__file__).parents[2] / 'configs' / 'mask_rcnn'
PREFIX = 'mask-rcnn_sparse-swin-t-p4-w7_fpn_'
FINE_TUNED = {
    'ft-3x_coco_sparsevit-41ms.py': REFERENCE_CONFIGS['searched-0.3'],
    'ft-3x_coco_sparsevit-34ms.py': REFERENCE_CONFIGS['searched-0.6'],
    'ft-3x_coco_sparsevit-33ms.py': REFERENCE_CONFIGS['searched-0.7'],
}


def load(name):
    return Config.fromfile(str(CONFIGS / (PREFIX + name)))


def build(cfg):
    init_default_scope('mmdet')
    model_cfg = cfg.model.copy()
    model_cfg.backbone.init_cfg = None  # no download of ImageNet weights in tests
    return MODELS.build(model_cfg)


def test_dense_baseline_tests_at_672():
    cfg = load('ms-crop-3x_coco.py')
    assert cfg.model.backbone.type == 'SparseSwinTransformer'
    resize = [t for t in cfg.test_dataloader.dataset.pipeline if t.type == 'Resize']
    assert resize == [dict(type='Resize', scale=(672, 672), keep_ratio=False)]
    assert cfg.default_hooks.checkpoint.backend_args == dict(backend='atomic_local')
    assert get_sparsity(build(cfg)) == [0.0] * 4


def test_saa_recipe():
    cfg = load('saa-1x_coco.py')
    assert cfg.train_cfg.max_epochs == 12
    assert cfg.optim_wrapper.optimizer.lr == 1e-5 and cfg.optim_wrapper.optimizer.type == 'AdamW'
    assert cfg.optim_wrapper.optimizer.weight_decay == 0.05
    assert cfg.optim_wrapper.paramwise_cfg.custom_keys['norm'] == dict(decay_mult=0.)
    hooks = {h.type: h for h in cfg.custom_hooks}
    assert hooks['SparsityAdaptationHook'].choices == [i / 10 for i in range(9)]
    assert 'DataFilesCheckHook' in hooks
    assert cfg.load_from.endswith('mask_rcnn_swin-t-p4-w7_fpn_ms-crop-3x_coco_20210906_131725'
                                  '-bacf6f7b.pth')


@pytest.mark.parametrize('name, sparsity', FINE_TUNED.items())
def test_fine_tune_configs_carry_the_searched_configurations(name, sparsity):
    cfg = load(name)
    assert cfg.train_cfg.max_epochs == 36 and cfg.optim_wrapper.optimizer.lr == 1e-5
    assert cfg.load_from.endswith('saa-1x_coco/epoch_12.pth')
    model = build(cfg)
    assert isinstance(model.backbone, SparseSwinTransformer)
    assert get_sparsity(model) == sparsity


def mmdet2_checkpoint(path):
    """A dense Swin-T Mask R-CNN as mmdet 2.x (and the SparseViT authors) saved them."""
    init_default_scope('mmdet')
    cfg = get_config('mmdet::swin/mask-rcnn_swin-t-p4-w7_fpn_ms-crop-3x_coco.py')
    cfg.model.backbone.init_cfg = None
    model = MODELS.build(cfg.model)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    model.backbone(torch.randn(1, 3, 64, 64))[0].mean().backward()
    optimizer.step()
    meta = dict(mmdet_version='2.28.2', mmcv_version='1.7.1', CLASSES=('person', 'bicycle'),
                config='model = dict(...)', seed=0, exp_name='mask_rcnn_sparsevit_saa.py',
                epoch=12, iter=87960, time='Fri Mar 31 10:00:00 2023',
                hook_msgs=dict(last_ckpt='work_dirs/epoch_12.pth'))
    torch.save(dict(meta=meta, state_dict=model.state_dict(), optimizer=optimizer.state_dict()),
               path)
    return model


def test_mmdet2_layout_checkpoints_load_strictly_into_the_new_configs(tmp_path):
    source = mmdet2_checkpoint(tmp_path / 'mmdet2.pth')
    model = build(load('ft-3x_coco_sparsevit-34ms.py'))
    checkpoint = load_checkpoint(model, str(tmp_path / 'mmdet2.pth'), strict=True)  # weights-only
    assert checkpoint['meta']['mmdet_version'] == '2.28.2'
    for name, value in source.state_dict().items():
        assert torch.equal(model.state_dict()[name], value), name


def test_checkpoint_keys_that_do_not_fit_are_reported(tmp_path):
    source = mmdet2_checkpoint(tmp_path / 'mmdet2.pth')
    state = source.state_dict()
    state.pop('backbone.stages.2.blocks.3.ffn.layers.1.weight')
    state['backbone.extra.weight'] = torch.zeros(1)
    torch.save(dict(state_dict=state), tmp_path / 'broken.pth')
    model = build(load('ft-3x_coco_sparsevit-34ms.py'))
    with pytest.raises(RuntimeError, match=r'(?s)unexpected key in source state_dict: '
                       r'backbone.extra.weight.*missing keys in source state_dict: '
                       r'backbone.stages.2.blocks.3.ffn.layers.1.weight'):
        load_checkpoint(model, str(tmp_path / 'broken.pth'), strict=True)
