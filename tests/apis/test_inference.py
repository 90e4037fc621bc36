import numpy as np
import pytest
import torch
from mmengine.config import Config

from sparsevit import get_sparsity
from sparsevit.apis import inference, init_model

TINY = dict(embed_dims=24, depths=(2, 2, 2, 2), num_heads=(1, 2, 4, 8), window_size=4,
            init_cfg=None)


@pytest.fixture(scope='module')
def detector_config(tmp_path_factory):
    path = tmp_path_factory.mktemp('cfg') / 'det.py'
    path.write_text(
        "_base_ = 'mmdet::swin/mask-rcnn_swin-t-p4-w7_fpn_1x_coco.py'\n"
        "custom_imports = dict(imports=['sparsevit'], allow_failed_imports=False)\n"
        f"model = dict(backbone=dict(type='SparseSwinTransformer', **{TINY!r}),\n"
        "             neck=dict(in_channels=[24, 48, 96, 192]))\n")
    return str(path)


def test_init_model_with_a_sparsity_or_a_budget_and_run_on_images(detector_config, search_dir,
                                                                  tmp_path):
    from mmdet.registry import MODELS
    from mmengine.registry import init_default_scope
    init_default_scope('mmdet')
    cfg = Config.fromfile(detector_config)
    torch.save({'state_dict': MODELS.build(cfg.model).state_dict()}, tmp_path / 'det.pth')
    model = init_model(detector_config, str(tmp_path / 'det.pth'), [0.5, 0, 0, 0])
    assert get_sparsity(model) == [0.5, 0.0, 0.0, 0.0]
    budgeted = init_model(detector_config, str(tmp_path / 'det.pth'), latency_budget_ms=15.0,
                          search_dir=search_dir)
    assert get_sparsity(budgeted) == [0.6, 0.5, 0.4, 0.0]
    image = (np.random.rand(96, 128, 3) * 255).astype(np.uint8)
    results = inference(model, [image, image])
    assert len(results) == 2 and results[0].pred_instances.bboxes.shape[-1] == 4
    with pytest.raises(ValueError, match='needs search_dir'):
        init_model(detector_config, None, latency_budget_ms=15.0)
