"""CUDA graphs of the sparse backbone on a CUDA device: replays equal eager mode, one capture
per configuration and shape, and the benchmark's ``--cuda-graph`` figures."""
import pytest
import torch

from sparsevit import SparseSwinTransformer
from sparsevit.deployment import CudaGraphBackbone

from ..helpers import load_tool
from .marks import needs_cuda

pytestmark = [pytest.mark.cuda, needs_cuda]


@pytest.fixture
def backbone(tiny_swin_kwargs):
    model = SparseSwinTransformer(**tiny_swin_kwargs)
    model.init_weights()
    return model.cuda().eval()


def test_replays_equal_eager_and_capture_once_per_configuration_and_shape(backbone):
    graphed = CudaGraphBackbone(backbone)
    sparse = [0.5, 0.3, [0.0, 0.2, 0.4, 0.5], 0.0]
    steps = [(None, (1, 3, 96, 96)), (sparse, (1, 3, 96, 96)), (sparse, (2, 3, 100, 132)),
             (None, (1, 3, 96, 96)), (sparse, (2, 3, 100, 132))]
    for sparsity, shape in steps:
        backbone.sparsity = sparsity
        for _ in range(2):  # new images at a captured shape: the kept windows follow them
            images = torch.randn(shape, device='cuda')
            outs = graphed(images)
            with torch.no_grad():
                expected = backbone(images)
            for got, want in zip(outs, expected):
                torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)
    assert len(graphed.graphs) == 3


def test_outputs_are_not_overwritten_by_the_next_replay(backbone):
    graphed = CudaGraphBackbone(backbone)
    backbone.sparsity = [0.5, 0.5, 0.5, 0]
    first_images, second_images = torch.randn(2, 1, 3, 64, 64, device='cuda')
    first = graphed(first_images)
    kept = [out.clone() for out in first]
    graphed(second_images)
    for out, copy in zip(first, kept):
        assert torch.equal(out, copy)


def test_captured_in_inference_mode_replays_in_any_grad_mode(backbone):
    graphed = CudaGraphBackbone(backbone)
    images = torch.randn(1, 3, 64, 64, device='cuda')
    with torch.inference_mode():
        graphed(images)
    for grad_mode in (torch.no_grad, torch.enable_grad, torch.inference_mode):
        with grad_mode():
            outs = graphed(images)
        assert not any(out.requires_grad for out in outs)
    assert len(graphed.graphs) == 1


def test_autocast_graph_casts_the_weights_in_every_replay(backbone):
    graphed = CudaGraphBackbone(backbone)
    backbone.sparsity = [0.5, 0.5, 0.5, 0]
    with torch.autocast('cuda', dtype=torch.float16):
        graphed(torch.randn(1, 3, 96, 96, device='cuda'))  # captured
    # memory freed after the capture (autocast's cache of cast weights, were it used) is reused
    scratch = [torch.full((1 << 20, ), 1e4, device='cuda') for _ in range(64)]
    del scratch
    images = torch.randn(1, 3, 96, 96, device='cuda')
    with torch.autocast('cuda', dtype=torch.float16):
        outs = graphed(images)
        with torch.no_grad():
            expected = backbone(images)
    assert len(graphed.graphs) == 1
    for got, want in zip(outs, expected):
        torch.testing.assert_close(got, want, rtol=1e-3, atol=1e-3)


def test_benchmark_times_graph_replay_beside_eager(capsys):
    result = load_tool('analysis/benchmark_latency').main([
        '--device', 'cuda', '--cuda-graph', '--size', '128', '128', '--warmup', '1', '--runs', '3',
        '--sparsity', 'dense', '--sparsity', 'uniform-0.5'])
    printed = capsys.readouterr().out
    assert 'dense cuda graph: ' in printed and 'graph ms' in printed
    rows = {row['name']: row for row in result['results']}
    assert result['protocol']['cuda_graph'] is True and 'cuda_graph' not in rows['mmdet dense']
    for name in ('dense', 'uniform-0.5'):
        assert rows[name]['cuda_graph']['runs'] == 3 and rows[name]['cuda_graph']['mean_ms'] > 0
