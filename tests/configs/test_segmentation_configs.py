"""Cityscapes UperNet / Mask2Former configs build, carry the recipe and load mmseg checkpoints."""
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.hub import get_config
from mmengine.model import revert_sync_batchnorm
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint, save_checkpoint
from mmseg.models.backbones import SwinTransformer as MMSegSwinTransformer
from mmseg.registry import MODELS

from sparsevit import SparseSwinTransformer, get_sparsity
from sparsevit.presets import REFERENCE_CONFIGS

CONFIGS = Path(__file__).parents[2] / 'configs'
UPERNET = 'upernet/upernet_sparse-swin-t-p4-w7_4xb2-{}_cityscapes-512x1024.py'
MASK2FORMER = 'mask2former/mask2former_sparse-swin-t_8xb2-{}_cityscapes-512x1024.py'
STOCK_UPERNET = 'mmseg::swin/swin-tiny-patch4-window7-in1k-pre_upernet_8xb2-160k_ade20k-512x512.py'


def load(name: str) -> Config:
    return Config.fromfile(str(CONFIGS / name))


def build(cfg: Config) -> torch.nn.Module:
    init_default_scope('mmseg')
    model_cfg = cfg.model.copy()
    model_cfg.backbone.init_cfg = None  # no download of ImageNet weights in tests
    return revert_sync_batchnorm(MODELS.build(model_cfg)).eval()


def test_upernet_trains_on_crops_and_tests_on_the_full_image():
    cfg = load(UPERNET.format('80k'))
    assert cfg.default_scope == 'mmseg' and cfg.custom_imports.imports == ['sparsevit']
    assert cfg.model.backbone.type == 'SparseSwinTransformer'
    assert cfg.crop_size == (512, 1024) and cfg.model.data_preprocessor.size == (512, 1024)
    crop = [t for t in cfg.train_dataloader.dataset.pipeline if t.type == 'RandomCrop']
    assert crop[0].crop_size == (512, 1024)
    resize = [t for t in cfg.test_dataloader.dataset.pipeline if t.type == 'Resize']
    assert resize == [dict(type='Resize', scale=(2048, 1024), keep_ratio=True)]
    assert cfg.model.test_cfg.mode == 'whole'
    assert cfg.model.decode_head.num_classes == cfg.model.auxiliary_head.num_classes == 19
    assert cfg.test_evaluator.type == 'IoUMetric'
    model = build(cfg)
    assert isinstance(model.backbone, SparseSwinTransformer)
    assert get_sparsity(model) == [0.0] * 4
    with torch.no_grad():
        logits = model(torch.randn(1, 3, 64, 128), mode='tensor')
    assert logits.shape == (1, 19, 16, 32)


def test_upernet_saa_recipe():
    cfg = load(UPERNET.format('saa-30k'))
    assert cfg.optim_wrapper.optimizer.lr == pytest.approx(6e-6)  # a tenth of the dense rate
    assert cfg.train_cfg.max_iters == 30000
    hooks = {h.type: h for h in cfg.custom_hooks}
    assert hooks['SparsityAdaptationHook'].eval_sparsity is None
    assert 'DataFilesCheckHook' in hooks
    assert cfg.load_from.endswith('80k_cityscapes-512x1024/iter_80000.pth')
    assert cfg.find_unused_parameters


def test_upernet_fine_tune_config_has_a_fixed_configuration():
    cfg = load(UPERNET.format('ft-80k'))
    assert 'SparsityAdaptationHook' not in {h.type for h in cfg.custom_hooks}
    assert cfg.load_from.endswith('saa-30k_cityscapes-512x1024/iter_30000.pth')
    assert get_sparsity(build(cfg)) == REFERENCE_CONFIGS['searched-0.6']


@pytest.mark.parametrize('schedule', ['90k', 'saa-30k'])
def test_mask2former_builds_with_the_sparse_backbone(schedule):
    cfg = load(MASK2FORMER.format(schedule))
    model = build(cfg)
    assert isinstance(model.backbone, SparseSwinTransformer)
    assert type(model.decode_head).__name__ == 'Mask2FormerHead'
    hooks = {h.type for h in cfg.custom_hooks}
    assert ('SparsityAdaptationHook' in hooks) == (schedule == 'saa-30k')


def test_all_zero_configuration_equals_mmseg_swin():
    """mmseg's own SwinTransformer state dict loads strictly and gives the same features."""
    torch.manual_seed(0)
    kwargs = dict(embed_dims=32, depths=(2, 2, 2, 2), num_heads=(1, 2, 4, 8), window_size=7)
    reference = MMSegSwinTransformer(**kwargs)
    sparse = SparseSwinTransformer(**kwargs)
    sparse.load_state_dict(reference.state_dict(), strict=True)
    reference.eval(), sparse.eval()  # mmseg's Swin.train returns None: no chaining
    x = torch.randn(2, 3, 100, 150)
    with torch.no_grad():
        for ours, theirs in zip(sparse(x), reference(x)):
            assert (ours - theirs).abs().max() <= 1e-5


def test_stock_mmseg_upernet_checkpoint_loads_into_the_sparse_configs(tmp_path):
    init_default_scope('mmseg')
    stock = get_config(STOCK_UPERNET)
    stock.model.backbone.init_cfg = None
    stock.model.decode_head.num_classes = stock.model.auxiliary_head.num_classes = 19
    source = revert_sync_batchnorm(MODELS.build(stock.model)).eval()
    save_checkpoint(dict(meta=dict(mmseg_version='1.2.2'), state_dict=source.state_dict()),
                    str(tmp_path / 'stock.pth'))
    x = torch.randn(1, 3, 64, 128)
    for schedule in ('80k', 'ft-80k'):
        model = build(load(UPERNET.format(schedule)))
        load_checkpoint(model, str(tmp_path / 'stock.pth'), strict=True)
        if schedule == '80k':  # dense: the stock model's output
            with torch.no_grad():
                assert torch.allclose(model(x, mode='tensor'), source(x, mode='tensor'),
                                      atol=1e-4)


def test_mmseg_imagenet_swin_initialises_the_backbone(tmp_path):
    """The ``init_cfg`` of the configs: mmseg's ImageNet Swin-T file (backbone keys only)."""
    init_default_scope('mmseg')
    source = MMSegSwinTransformer(embed_dims=96, depths=(2, 2, 6, 2), num_heads=(3, 6, 12, 24))
    torch.save(dict(state_dict=source.state_dict()), tmp_path / 'swin_tiny.pth')
    cfg = load(UPERNET.format('80k')).model.backbone
    cfg.init_cfg.checkpoint = str(tmp_path / 'swin_tiny.pth')
    backbone = MODELS.build(cfg)
    backbone.init_weights()
    for key, value in source.state_dict().items():
        assert torch.equal(backbone.state_dict()[key], value), key
