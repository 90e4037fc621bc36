"""Whether the forward is being captured as a graph (traced for ONNX export, or compiled), and
which autocast is in force.

The sparse backbone writes window results in place and caches index tables in
eager mode; under capture it writes out of place and builds the tables inside
the graph.
"""
from typing import Optional

import torch

# torch >= 2.3 (compile_backbone needs it); older torch has no compiled path here
_compiler_is_compiling = getattr(getattr(torch, 'compiler', None), 'is_compiling', lambda: False)


def is_exporting() -> bool:
    """True while the forward is traced for ONNX export."""
    return torch.jit.is_tracing() or torch.onnx.is_in_onnx_export()


def is_compiling() -> bool:
    """True while torch.compile (dynamo) traces the forward."""
    return bool(_compiler_is_compiling())


def eager_on_cpu(x: torch.Tensor) -> bool:
    """True for a CPU tensor outside graph capture: where the backbone's CPU-only
    tricks (cache-sized chunks, channels-last patch embedding) apply."""
    return x.device.type == 'cpu' and not (is_exporting() or is_compiling())


def autocast_dtype(device_type: str) -> Optional[torch.dtype]:
    """The dtype autocast casts to on ``device_type``, or None when it is off."""
    if hasattr(torch, 'get_autocast_dtype'):  # torch >= 2.4
        enabled = torch.is_autocast_enabled(device_type)
        return torch.get_autocast_dtype(device_type) if enabled else None
    if device_type == 'cuda':
        return torch.get_autocast_gpu_dtype() if torch.is_autocast_enabled() else None
    return torch.get_autocast_cpu_dtype() if torch.is_autocast_cpu_enabled() else None
