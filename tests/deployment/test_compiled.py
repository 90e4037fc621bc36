"""torch.compile of the sparse backbone: same outputs as eager, one graph per configuration
and input shape."""
import re

import pytest
import torch

from sparsevit import SparseSwinTransformer
from sparsevit.deployment import DeploymentError, compile_backbone
from sparsevit.deployment.compiled import MIN_TORCH
from sparsevit.environment import version_tuple

OLD_TORCH = version_tuple(torch.__version__) < MIN_TORCH
needs_compile = pytest.mark.skipif(OLD_TORCH, reason=f'torch.compile path needs torch >= '
                                   f'{MIN_TORCH} (older torch: test_old_torch_is_refused)')


@pytest.fixture
def backbone(tiny_swin_kwargs):
    model = SparseSwinTransformer(**tiny_swin_kwargs)
    model.init_weights()
    return model.eval()


@needs_compile
def test_recompiles_only_when_configuration_or_shape_changes(backbone):
    import torch._dynamo as dynamo
    from torch._dynamo.testing import CompileCounter
    dynamo.reset()
    counter = CompileCounter()
    compiled = compile_backbone(backbone, backend=counter)
    small, large = torch.randn(1, 3, 96, 96), torch.randn(1, 3, 128, 96)
    steps = [(None, small, 1), (None, small, 1), ([0.5, 0.5, 0.5, 0], small, 2),
             ([0.5, 0.5, 0.5, 0], small, 2), (None, small, 2), ([0.5, 0.5, 0.5, 0], small, 2),
             ([0.5, 0.5, 0.5, 0], large, 3), ([0.5, 0.5, 0.5, 0], large, 3)]
    with torch.inference_mode():
        for sparsity, images, graphs in steps:
            backbone.sparsity = sparsity
            outputs = compiled(images)
            assert counter.frame_count == graphs, (sparsity, tuple(images.shape))
            for got, expected in zip(outputs, backbone(images)):
                torch.testing.assert_close(got, expected)
    assert not dynamo.utils.counters['graph_break']  # the whole forward is one graph


@needs_compile
@pytest.mark.slow
def test_inductor_matches_eager(backbone):
    torch._dynamo.reset()
    compiled = compile_backbone(backbone)
    backbone.sparsity = [0.5, 0.3, [0.0, 0.2, 0.4, 0.5], 0.0]
    images = torch.randn(2, 3, 100, 132)  # padded windows, two images with their own windows
    with torch.inference_mode():
        for got, expected in zip(compiled(images), backbone(images)):
            torch.testing.assert_close(got, expected, atol=1e-4, rtol=1e-4)


@pytest.mark.skipif(not OLD_TORCH, reason='this torch compiles the backbone')
def test_old_torch_is_refused(backbone):
    found = re.escape(torch.__version__)
    with pytest.raises(DeploymentError, match=f'needs torch >= 2.3, found {found}; run it'):
        compile_backbone(backbone)
