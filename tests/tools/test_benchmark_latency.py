import json

import pytest

from sparsevit import SparsityError

from ..helpers import load_tool


@pytest.fixture(scope='module')
def tool():
    return load_tool('analysis/benchmark_latency')


def test_times_configurations_against_mmdet_dense(tool, tmp_path, capsys):
    out = tmp_path / 'latency.json'
    result = tool.main(['--size', '64', '96', '--warmup', '1', '--runs', '3', '--threads', '1',
                        '--sparsity', 'dense', '--sparsity', 'searched-0.6',
                        '--sparsity', 'mine=[0.5, 0, 0.2, 0]', '--out', str(out)])
    printed = capsys.readouterr().out
    assert 'protocol: device=cpu' in printed and 'batch=1' in printed
    assert 'resolution=[64, 96]' in printed and 'dtype=fp32' in printed
    saved = json.loads(out.read_text())
    assert saved == json.loads(json.dumps(result))
    names = [row['name'] for row in saved['results']]
    assert names == ['mmdet dense', 'dense', 'searched-0.6', 'mine']
    rows = {row['name']: row for row in saved['results']}
    assert rows['dense']['ideal_ratio'] == rows['dense']['ratio_to_own_dense'] == 1.0
    assert rows['searched-0.6']['ideal_ratio'] < rows['mine']['ideal_ratio'] < 1.0
    assert rows['searched-0.6']['sparsity'] == [0.6, 0.0, [0.2, 0.2, 0.4, 0.4, 0.5, 0.5], 0.0]
    assert all(row['latency']['mean_ms'] > 0 and row['latency']['runs'] == 3
               for row in saved['results'])


def test_own_dense_path_is_always_timed(tool):
    result = tool.main(['--size', '32', '32', '--warmup', '0', '--runs', '1',
                        '--sparsity', 'uniform-0.5'])
    assert [row['name'] for row in result['results']] == ['mmdet dense', 'dense', 'uniform-0.5']


def test_config_source_and_bad_input(tool, tmp_path):
    with pytest.raises(SparsityError, match='sparsity fastest: unknown name'):
        tool.main(['--size', '32', '32', '--runs', '1', '--sparsity', 'fastest'])
    with pytest.raises(Exception, match='outside'):
        tool.main(['--size', '32', '32', '--runs', '1', '--sparsity', 'x=[1.5, 0, 0, 0]'])
    cfg = tmp_path / 'cfg.py'
    cfg.write_text("model = dict(backbone=dict(type='ResNet', depth=50))\n")
    with pytest.raises(SystemExit, match='has no Swin backbone'):
        tool.main(['--config', str(cfg), '--runs', '1'])
