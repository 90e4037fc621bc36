"""CPU distributed setup: SyncBN configs become BN, nothing else changes."""
from mmengine.config import ConfigDict

from sparsevit.utils.dist import _local_batchnorm


def test_sync_bn_configs_become_bn_everywhere_in_the_model():
    model = ConfigDict(
        backbone=dict(type='SparseSwinTransformer', norm_cfg=dict(type='LN')),
        decode_head=dict(norm_cfg=dict(type='SyncBN', requires_grad=True)),
        auxiliary_head=[dict(norm_cfg=dict(type='SyncBN')), dict(norm_cfg=dict(type='GN'))])
    assert _local_batchnorm(model) == 2
    assert model.decode_head.norm_cfg == dict(type='BN', requires_grad=True)
    assert model.auxiliary_head[0].norm_cfg.type == 'BN'
    assert model.auxiliary_head[1].norm_cfg.type == 'GN'
    assert model.backbone.norm_cfg.type == 'LN'
