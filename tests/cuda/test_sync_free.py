"""The sparse forward never waits for the device: no tensor value is read on the host.

On the CPU a dispatch mode lists the operators that read tensor values on the host
(``.item()``, ``bool(tensor)``, ``nonzero``, boolean-mask indexing) or copy between devices;
on CUDA, ``torch.cuda.set_sync_debug_mode('error')`` turns any synchronisation into an error.
"""
import contextlib

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

from sparsevit import SparseSwinTransformer

from ..models.backbones.test_sparse_swin import SPARSE, cpu_autocast_supports
from .marks import DEVICES, needs_cuda

pytestmark = pytest.mark.cuda

aten = torch.ops.aten
# operators whose result depends on tensor values that the host has to read first
HOST_READS = {getattr(aten, name) for name in (
    '_local_scalar_dense', 'is_nonzero', 'nonzero', 'nonzero_static', 'masked_select',
    'unique_consecutive', '_unique2', 'equal', 'allclose', 'repeat_interleave', 'masked_scatter')
    if hasattr(aten, name)}
# indexing operators, which read a boolean index on the host to find its True positions
INDEXING = {aten.index, aten.index_put, aten.index_put_, aten._index_put_impl_}


def _leaves(tree) -> list:
    """The leaves of a nested structure (``tree_leaves`` is newer than torch 2.1)."""
    return tree_flatten(tree)[0]


class HostReads(TorchDispatchMode):
    """Records the operators that read tensor values on the host or copy across devices."""

    def __init__(self):
        super().__init__()
        self.seen: list[str] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        inputs = [t for t in _leaves((args, kwargs)) if isinstance(t, torch.Tensor)]
        outputs = [t for t in _leaves(out) if isinstance(t, torch.Tensor)]
        # CPU scalars passed to device kernels are read on the host without a copy
        devices = {t.device for t in inputs + outputs if t.dim() > 0 or t.device.type != 'cpu'}
        masked = func.overloadpacket in INDEXING and any(
            t.dtype in (torch.bool, torch.uint8) for t in _leaves(args[1:])
            if isinstance(t, torch.Tensor))
        if func.overloadpacket in HOST_READS or masked or len(devices) > 1:
            self.seen.append(str(func))
        return out


# name -> (sparsity, score_before_patch_norm, image shape)
FORWARDS = {
    'dense': (None, False, (2, 3, 128, 128)),
    'sparse': (SPARSE, False, (2, 3, 128, 128)),
    'sparse-padded': ([0.8, 0.5, [0.0, 0.3, 0.3, 0.7], 0.5], False, (3, 3, 90, 150)),
    'scored-before-norm': (SPARSE, True, (1, 3, 96, 160)),
}
# name -> (training, grad mode, autocast dtype)
MODES = {
    'no-grad': (False, torch.no_grad, None),
    'inference-mode': (False, torch.inference_mode, None),
    'fp16': (False, torch.no_grad, torch.float16),
    'train': (True, torch.enable_grad, None),
}


def run_forward(backbone, images, mode: str) -> list[torch.Tensor]:
    training, grad_mode, dtype = MODES[mode]
    backbone.train(training)
    autocast = contextlib.nullcontext() if dtype is None else torch.autocast(
        images.device.type, dtype=dtype)
    with grad_mode(), autocast:
        return backbone(images)


def make_backbone(tiny_swin_kwargs, forward: str, device: str):
    sparsity, scored_before_norm, shape = FORWARDS[forward]
    backbone = SparseSwinTransformer(**dict(tiny_swin_kwargs, drop_path_rate=0.1),
                                     sparsity=sparsity, score_before_patch_norm=scored_before_norm)
    return backbone.to(device), torch.randn(shape, device=device)


@pytest.mark.parametrize('device', DEVICES)
@pytest.mark.parametrize('mode', sorted(MODES))
@pytest.mark.parametrize('forward', sorted(FORWARDS))
def test_forward_reads_no_tensor_value_on_the_host(tiny_swin_kwargs, device, forward, mode):
    if device == 'cpu' and mode == 'fp16' and not cpu_autocast_supports(torch.float16):
        pytest.skip(f'torch {torch.__version__} has no CPU autocast to float16')
    backbone, images = make_backbone(tiny_swin_kwargs, forward, device)
    run_forward(backbone, images, mode)  # builds the cached window tables
    with HostReads() as reads:
        outs = run_forward(backbone, images, mode)
    assert reads.seen == []
    assert len(outs) == 4


def test_host_reads_are_detected():
    """The dispatch mode above does see what it looks for."""
    x = torch.arange(6.0)
    reads_of = {
        'item': lambda: x.sum().item(),
        'if tensor': lambda: bool(x.any()),
        'int(tensor)': lambda: int(x[2]),
        'nonzero': lambda: torch.nonzero(x),
        'boolean mask': lambda: x[x > 2],
        'copy to another device': lambda: x.to('meta'),
    }
    for name, read in reads_of.items():
        with HostReads() as reads:
            read()
        assert reads.seen, name
    with HostReads() as reads:
        x[torch.tensor([1, 3])] * torch.tensor(2.0)  # an index and a CPU scalar: no reads
    assert reads.seen == []


@needs_cuda
@pytest.mark.parametrize('mode', sorted(MODES))
@pytest.mark.parametrize('forward', sorted(FORWARDS))
def test_no_host_device_synchronisation_in_the_sparse_forward(tiny_swin_kwargs, forward, mode):
    backbone, images = make_backbone(tiny_swin_kwargs, forward, 'cuda')
    run_forward(backbone, images, mode)  # warm-up: window tables, library workspaces
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode('error')
    try:
        outs = run_forward(backbone, images, mode)
    finally:
        torch.cuda.set_sync_debug_mode('default')
    torch.cuda.synchronize()
    assert all(torch.isfinite(o).all() for o in outs)
