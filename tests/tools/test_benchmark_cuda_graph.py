"""``benchmark_latency.py --cuda-graph`` without a CUDA device: one clear line, and its rows and
table with a stand-in for the capture (tests/cuda times real graphs)."""
import pytest
import torch

from sparsevit.deployment import CudaGraphBackbone

from ..helpers import load_tool


@pytest.fixture(scope='module')
def tool():
    return load_tool('analysis/benchmark_latency')


def eager_capture(forward, example):
    return forward


def test_refused_without_a_cuda_device(tool):
    with pytest.raises(SystemExit, match=r'--cuda-graph needs a CUDA device \(--device cuda\), '
                       'got cpu'):
        tool.main(['--size', '32', '32', '--runs', '1', '--cuda-graph'])
    if not torch.cuda.is_available():
        with pytest.raises(SystemExit, match=r'torch.cuda.is_available\(\) is False'):
            tool.main(['--size', '32', '32', '--runs', '1', '--cuda-graph', '--device', 'cuda'])
    with pytest.raises(SystemExit):
        tool.main(['--whole-model', 'cfg.py', '--cuda-graph'])


def test_graph_rows_and_table_beside_eager(tool, monkeypatch, capsys):
    monkeypatch.setattr(tool, 'check_cuda_graph_device', lambda device: None)
    monkeypatch.setattr(tool, 'CudaGraphBackbone', lambda backbone, max_graphs: CudaGraphBackbone(
        backbone, max_graphs, capturer=eager_capture))
    result = tool.main(['--size', '64', '96', '--warmup', '0', '--runs', '2', '--threads', '1',
                        '--cuda-graph', '--sparsity', 'dense', '--sparsity', 'uniform-0.5'])
    printed = capsys.readouterr().out
    assert 'dense cuda graph: ' in printed and 'uniform-0.5 cuda graph: ' in printed
    assert 'cuda_graph=True' in printed and 'graph ms' in printed
    rows = {row['name']: row for row in result['results']}
    assert 'cuda_graph' not in rows['mmdet dense']
    for name in ('dense', 'uniform-0.5'):
        graphed = rows[name]['cuda_graph']
        assert graphed['runs'] == 2 and graphed['mean_ms'] > 0
        assert rows[name]['cuda_graph_vs_eager'] == pytest.approx(
            graphed['mean_ms'] / rows[name]['latency']['mean_ms'])
