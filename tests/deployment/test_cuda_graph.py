"""The cache of CUDA graphs of the sparse backbone, with a stand-in for the capture: one graph
per configuration, input shape, dtype and autocast state; reuse; least-recently-used eviction."""
import pytest
import torch

from sparsevit import SparseSwinTransformer
from sparsevit.deployment import (MAX_CUDA_GRAPHS, CudaGraphBackbone, DeploymentError,
                                  capture_cuda_graph)


class StandInCapturer:
    """Records every capture and runs the forward once, as the warm-up of a real capture does;
    the 'graph' it returns runs the forward eagerly."""

    def __init__(self):
        self.captures: list[tuple] = []

    def __call__(self, forward, example):
        self.captures.append((tuple(example.shape), example.dtype))
        forward(example)

        def replay(images):
            return [out.clone() for out in forward(images)]
        return replay


@pytest.fixture
def backbone(tiny_swin_kwargs):
    model = SparseSwinTransformer(**tiny_swin_kwargs)
    model.init_weights()
    return model.eval()


def graphed(backbone, max_graphs=MAX_CUDA_GRAPHS):
    capturer = StandInCapturer()
    return CudaGraphBackbone(backbone, max_graphs, capturer=capturer), capturer


def test_one_capture_per_configuration_and_shape(backbone):
    model, capturer = graphed(backbone)
    small, large = (1, 3, 64, 64), (1, 3, 96, 64)
    sparse = [0.5, 0.5, 0.5, 0]
    steps = [(None, small, 1), (None, small, 1), (sparse, small, 2), (sparse, small, 2),
             (None, small, 2), (sparse, large, 3), (sparse, large, 3), (None, large, 4)]
    for sparsity, shape, captures in steps:
        backbone.sparsity = sparsity
        images = torch.randn(shape)  # new images each call: the windows follow them
        outs = model(images)
        assert len(capturer.captures) == captures, (sparsity, shape)
        with torch.no_grad():
            for got, expected in zip(outs, backbone(images)):
                torch.testing.assert_close(got, expected, rtol=0, atol=0)
    assert capturer.captures[-1] == (large, torch.float32)


def test_a_graph_keeps_the_configuration_it_was_captured_at(backbone):
    model, capturer = graphed(backbone)
    images = torch.randn(1, 3, 64, 64)
    backbone.sparsity = [0.5, 0.5, 0.5, 0]
    key = model.key(images)
    model(images)
    assert key.block_ratios == backbone.block_ratios
    assert list(model.graphs) == [key]
    tables = model.graphs[key].tables  # one window grid per stage, kept beyond the cache
    assert sorted((geo.height, geo.width) for geo in tables.values()) == [
        (2, 2), (4, 4), (8, 8), (16, 16)]
    backbone.score_before_patch_norm = True  # ranks other features: another graph
    model(images)
    assert len(capturer.captures) == 2 and model.key(images) != key


def test_dtype_and_autocast_are_part_of_the_key(backbone):
    model, capturer = graphed(backbone)
    images = torch.randn(1, 3, 64, 64)
    model(images)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        assert model.key(images).autocast == torch.bfloat16
        model(images)
    assert model.key(images).autocast is None
    backbone.double()
    model.reset()  # the graphs read the weights where they were
    model(images.double())
    model(images.double())
    assert capturer.captures == [((1, 3, 64, 64), torch.float32)] * 2 + [
        ((1, 3, 64, 64), torch.float64)]


def test_least_recently_used_graph_is_dropped(backbone):
    model, capturer = graphed(backbone, max_graphs=2)
    a, b, c = (torch.randn(1, 3, 32 * n, 64) for n in (1, 2, 3))
    for images in (a, b, a, c):
        model(images)
    assert [key.shape for key in model.graphs] == [tuple(a.shape), tuple(c.shape)]
    assert len(capturer.captures) == 3
    model(b)  # captured again
    assert len(capturer.captures) == 4 and len(model.graphs) == 2


def test_training_mode_and_bad_settings_are_refused(backbone):
    model, capturer = graphed(backbone)
    backbone.train()
    with pytest.raises(DeploymentError, match=r'capture inference only: call \.eval\(\)'):
        model(torch.randn(1, 3, 64, 64))
    assert capturer.captures == [] and not model.graphs
    with pytest.raises(ValueError, match='max_graphs must be at least 1, got 0'):
        CudaGraphBackbone(backbone, max_graphs=0, capturer=capturer)


def test_the_real_capture_needs_cuda(backbone):
    with pytest.raises(DeploymentError, match='need the input on a CUDA device, got cpu'):
        capture_cuda_graph(backbone.forward, torch.randn(1, 3, 64, 64))
    if not torch.cuda.is_available():
        with pytest.raises(DeploymentError, match=r'torch.cuda.is_available\(\) is False'):
            CudaGraphBackbone(backbone)
