import pytest

from sparsevit import SparseSwinTransformer
from sparsevit.analysis import backbone_flops
from sparsevit.presets import SWIN_ARCHS


@pytest.fixture(scope='module')
def swin_t():
    return SparseSwinTransformer(**SWIN_ARCHS['swin-t'])


def test_dense_swin_t_at_224_is_about_4_5_gmacs(swin_t):
    macs = backbone_flops(swin_t, (224, 224)) / 2
    assert 4.3e9 < macs < 4.6e9  # published: 4.5 G (norms and softmax not counted here)


def test_sparse_ratio_follows_kept_windows(swin_t):
    dense = backbone_flops(swin_t, (672, 672))
    swin_t.sparsity = [0.6, 0.6, 0.6, 0.6]
    ratio = backbone_flops(swin_t, (672, 672)) / dense
    swin_t.sparsity = None
    assert 0.38 < ratio < 0.45  # 230/576, 57/144, 14/36, 3/9 windows kept, plus dense parts
    assert backbone_flops(swin_t, (672, 672), ((0.9, 0.9), (0, 0), (0,) * 6, (0, 0))) < dense
