"""The backbone is registered once and builds under the mmdet, mmseg and mmdet3d scopes."""
import importlib

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from sparsevit import SparseSwinTransformer, get_sparsity


@pytest.mark.parametrize('scope', ['mmdet', 'mmseg', 'mmdet3d'])
def test_builds_from_a_config_dict_under_each_scope(scope, tiny_swin_kwargs):
    registry = importlib.import_module(f'{scope}.registry').MODELS
    init_default_scope(scope)
    backbone = registry.build(dict(type='SparseSwinTransformer', sparsity=[0.5, 0, 0, 0],
                                   **tiny_swin_kwargs))
    assert isinstance(backbone, SparseSwinTransformer)
    assert backbone.sparsity == [0.5, 0.0, 0.0, 0.0]
    assert len(backbone(torch.randn(1, 3, 64, 64))) == 4


def test_mmseg_upernet_with_the_sparse_backbone(tmp_path):
    path = tmp_path / 'upernet_sparse.py'
    path.write_text(
        "_base_ = 'mmseg::swin/"
        "swin-tiny-patch4-window7-in1k-pre_upernet_8xb2-160k_ade20k-512x512.py'\n"
        "custom_imports = dict(imports=['sparsevit'], allow_failed_imports=False)\n"
        "model = dict(backbone=dict(type='SparseSwinTransformer', init_cfg=None,\n"
        "                           sparsity=[0.5, 0, [0.2, 0.2, 0.4, 0.4, 0.4, 0.4], 0]))\n")
    cfg = Config.fromfile(str(path))
    init_default_scope('mmseg')
    from mmseg.registry import MODELS
    segmentor = MODELS.build(cfg.model).eval()
    assert get_sparsity(segmentor) == [0.5, 0.0, [0.2, 0.2, 0.4, 0.4, 0.4, 0.4], 0.0]
    with torch.no_grad():
        feats = segmentor.extract_feat(torch.randn(1, 3, 96, 128))
    assert [f.shape[1] for f in feats] == [96, 192, 384, 768]


def test_invalid_sparsity_in_a_config_stops_the_build(tiny_swin_kwargs):
    from mmdet.registry import MODELS

    from sparsevit import SparsityError
    init_default_scope('mmdet')
    with pytest.raises(SparsityError, match=r'stage 2 decreases with depth: block 1 has 0.1'):
        MODELS.build(dict(type='SparseSwinTransformer', sparsity=[0, 0, [0.3, 0.1, 0.3, 0.3], 0],
                          **tiny_swin_kwargs))
