"""Skip marks and device parameters of the CUDA tests; a skipped case says what is missing.

Every test here also runs on the CPU where its logic allows (the ``cpu`` parameter), which
proves the test code on a machine without CUDA. On a GPU machine, ``-k "not cpu"`` runs only
the CUDA cases.
"""
import pytest
import torch

CUDA_AVAILABLE = torch.cuda.is_available()
NO_CUDA = 'needs a CUDA device: torch.cuda.is_available() is False'


def mmcv_ops_missing(device: str) -> str:
    """Why mmcv's compiled ops (RoIAlign, NMS) cannot run on ``device``; '' when they can."""
    if device == 'cuda' and not CUDA_AVAILABLE:
        return NO_CUDA
    try:
        from mmcv.ops import get_compiling_cuda_version
    except ImportError as error:
        return f'mmcv has no compiled ops ({error})'
    if device == 'cuda' and get_compiling_cuda_version() == 'not available':
        return ('mmcv was built without CUDA ops (mmcv.ops.get_compiling_cuda_version() is '
                "'not available')")
    return ''


needs_cuda = pytest.mark.skipif(not CUDA_AVAILABLE, reason=NO_CUDA)

# the device of a test that runs on both
DEVICES = ['cpu', pytest.param('cuda', marks=needs_cuda)]
# the device of a test that needs mmcv's compiled ops there
MMCV_OPS_DEVICES = [
    pytest.param(device, marks=pytest.mark.skipif(bool(mmcv_ops_missing(device)),
                                                  reason=mmcv_ops_missing(device) or 'runs'))
    for device in ('cpu', 'cuda')
]
