"""The configs of the whole-model latency benchmark (benchmarks/whole_model/) load and build."""
from pathlib import Path

import pytest
from mmengine.config import Config
from mmengine.registry import MODELS, DefaultScope

from sparsevit import SparseSwinTransformer, sparse_backbones

BENCH = Path(__file__).parents[2] / 'benchmarks' / 'whole_model'


@pytest.mark.parametrize('name', sorted(p.name for p in BENCH.glob('*.py')))
def test_benchmark_config_builds_a_sparse_model(name):
    cfg = Config.fromfile(str(BENCH / name))
    assert cfg.test_dataloader.dataset.data_root.startswith('data/bench_')
    if 'bevdet' in name:
        import sparsevit.bevdet  # noqa: F401  what custom_imports loads
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        model = MODELS.build(cfg.model)
    assert isinstance(sparse_backbones(model)[0], SparseSwinTransformer)
