"""The sparse backbone on CUDA: dense equals mmdet's Swin, pruned equals the reference, autocast
stays close to float32, activation checkpointing changes nothing, torch.compile agrees."""
import pytest
import torch

from sparsevit import SparseSwinTransformer
from sparsevit.deployment import compile_backbone
from sparsevit.deployment.compiled import MIN_TORCH
from sparsevit.environment import version_tuple
from sparsevit.models.backbones.sparse_stage import WindowSelector, forward_stage
from sparsevit.presets import SWIN_ARCHS

from ..models.backbones.reference import randomize_, reference_forward, reference_stage
from ..models.backbones.test_sparse_stage import make_stage
from ..models.backbones.test_sparse_swin import (SPARSE, _loss_and_grads, cpu_autocast_supports,
                                                 dense_and_sparse)
from .marks import DEVICES, needs_cuda

pytestmark = pytest.mark.cuda

# autocast against float32 at the same kept windows, as mean |low precision - fp32| / mean |fp32|
# per output (the tiny Swin measured on the CPU: at most 0.001 for fp16 and 0.008 for bf16)
AUTOCAST_TOLERANCE = {torch.float16: 0.005, torch.bfloat16: 0.03}


@pytest.mark.parametrize('device', DEVICES)
@pytest.mark.parametrize('shape', [(1, 3, 224, 224), (2, 3, 160, 250)])
def test_dense_configuration_equals_mmdet_swin(device, shape):
    dense, sparse = dense_and_sparse(**SWIN_ARCHS['swin-t'])
    dense.to(device)
    sparse.to(device)
    images = torch.randn(shape, device=device)
    with torch.no_grad():
        expected, outs = dense(images), sparse(images)
    assert len(outs) == 4
    for e, o in zip(expected, outs):
        assert o.shape == e.shape and o.device == images.device
        assert (o - e).abs().max().item() <= 1e-4


@pytest.mark.parametrize('device', DEVICES)
@pytest.mark.parametrize('hw', [(8, 12), (10, 13)])
@pytest.mark.parametrize('ratios', [(0.5, 0.5, 0.75, 0.75), (0.0, 0.3, 0.3, 0.6)])
def test_pruned_stage_equals_reference(device, hw, ratios):
    stage = make_stage(4)
    x = torch.randn(3, hw[0] * hw[1], 16, dtype=torch.float64)
    expected = reference_stage(stage, ratios, x, hw)  # on the CPU
    out = forward_stage(stage.to(device).blocks, ratios, x.to(device), hw)
    assert out.device.type == device
    torch.testing.assert_close(out.cpu(), expected, rtol=0, atol=1e-10)


@pytest.mark.parametrize('device', DEVICES)
def test_pruned_backbone_equals_reference(tiny_swin_kwargs, device):
    dense, sparse = dense_and_sparse(**tiny_swin_kwargs)
    dense, sparse = dense.double(), sparse.double()
    sparse.sparsity = [0.8, 0.5, [0.0, 0.3, 0.3, 0.7], 0.5]
    images = torch.randn(3, 3, 90, 150, dtype=torch.float64)
    with torch.no_grad():
        expected = reference_forward(dense, sparse.block_ratios, images)  # on the CPU
        outs = sparse.to(device)(images.to(device))
    for e, o in zip(expected, outs):
        torch.testing.assert_close(o.cpu(), e, rtol=0, atol=1e-9)


def relative_error(low: torch.Tensor, reference: torch.Tensor) -> float:
    return ((low.float() - reference).abs().mean() / reference.abs().mean()).item()


def forward_selecting(monkeypatch, backbone, images, selections=None):
    """``backbone``'s outputs and the kept windows of its blocks, in call order; with
    ``selections``, the blocks keep those windows instead of their own choice."""
    own_choice, recorded = WindowSelector.kept, []

    def kept(self, windows, shifted, ratio):
        chosen = own_choice(self, windows, shifted, ratio) if selections is None \
            else selections[len(recorded)]
        recorded.append(chosen)
        return chosen

    with monkeypatch.context() as patch:
        patch.setattr(WindowSelector, 'kept', kept)
        return backbone(images), recorded


@pytest.mark.parametrize('device', DEVICES)
@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
@pytest.mark.parametrize('sparsity', [None, SPARSE])
def test_autocast_stays_close_to_float32(monkeypatch, tiny_swin_kwargs, device, dtype, sparsity):
    """Compared at the windows the low-precision forward kept: where two windows score within
    rounding of each other, either precision may keep the other one (a discrete change)."""
    if device == 'cpu' and not cpu_autocast_supports(dtype):
        pytest.skip(f'torch {torch.__version__} has no CPU autocast to {dtype}')
    _, backbone = dense_and_sparse(**tiny_swin_kwargs)
    backbone.sparsity = sparsity
    backbone.to(device)
    images = torch.randn(2, 3, 128, 128, device=device)
    with torch.no_grad():
        with torch.autocast(device, dtype=dtype):
            outs, kept = forward_selecting(monkeypatch, backbone, images)
        reference, _ = forward_selecting(monkeypatch, backbone, images, kept)
    assert len(kept) == sum(backbone.depths) and (sparsity is None) == all(
        k is None for k in kept)
    for r, o in zip(reference, outs):
        assert torch.isfinite(o).all()
        assert 0 < relative_error(o, r) <= AUTOCAST_TOLERANCE[dtype]  # > 0: autocast acted
    backbone.train()
    with torch.autocast(device, dtype=dtype):
        loss = sum(o.float().mean() for o in backbone(images))
    loss.backward()
    grads = [p.grad for p in backbone.parameters() if p.requires_grad]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)


@pytest.mark.parametrize('device', DEVICES)
def test_with_cp_gives_the_same_outputs_and_gradients(tiny_swin_kwargs, device):
    plain = SparseSwinTransformer(**tiny_swin_kwargs, sparsity=SPARSE).train()
    randomize_(plain)
    checkpointed = SparseSwinTransformer(**tiny_swin_kwargs, sparsity=SPARSE, with_cp=True)
    checkpointed.load_state_dict(plain.state_dict())
    plain.to(device)
    checkpointed.to(device).train()
    images = torch.randn(2, 3, 128, 128, device=device)
    loss_a, grads_a = _loss_and_grads(plain, images)
    loss_b, grads_b = _loss_and_grads(checkpointed, images)
    torch.testing.assert_close(loss_a, loss_b)
    assert set(grads_a) == set(grads_b) == {n for n, p in plain.named_parameters()}
    for name in grads_a:  # CUDA's index_add sums in any order: a tolerance, not equality
        torch.testing.assert_close(grads_a[name], grads_b[name], rtol=1e-4, atol=1e-5)


@pytest.mark.skipif(version_tuple(torch.__version__) < MIN_TORCH, reason='needs torch >= 2.3')
@pytest.mark.parametrize('device, backend', [
    ('cpu', 'eager'),  # dynamo's graph run eagerly: inductor on the CPU is a slow e2e test
    pytest.param('cuda', 'inductor', marks=needs_cuda)])
def test_torch_compile_matches_eager(tiny_swin_kwargs, device, backend):
    torch._dynamo.reset()
    backbone = SparseSwinTransformer(**tiny_swin_kwargs)
    backbone.init_weights()
    backbone.to(device).eval()
    compiled = compile_backbone(backbone, backend=backend)
    images = torch.randn(2, 3, 100, 132, device=device)  # padded windows
    with torch.inference_mode():
        for sparsity in (None, [0.5, 0.3, [0.0, 0.2, 0.4, 0.5], 0.0]):
            backbone.sparsity = sparsity
            for got, expected in zip(compiled(images), backbone(images)):
                torch.testing.assert_close(got, expected, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize('device', DEVICES)
def test_eager_tables_time_parts_in_place_only_on_the_cpu(device):
    """Timing parts waits for the device at every part: a CUDA table times whole forwards."""
    from sparsevit.analysis.latency import LatencyProtocol
    from sparsevit.latency_tables.runtimes import build_runtime
    backbone = SparseSwinTransformer(embed_dims=16, depths=(2, 2), num_heads=(1, 2),
                                     strides=(4, 2), out_indices=(0, 1), window_size=4)
    runtime = build_runtime('pytorch', backbone, LatencyProtocol(device, 1, 64, 64), 1)
    assert runtime.times_parts == (device == 'cpu')
