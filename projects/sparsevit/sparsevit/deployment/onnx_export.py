"""Export the sparse backbone at a fixed configuration and input shape to ONNX.

The export traces the model with torch's TorchScript-based exporter, which every
supported torch (2.0-2.14) has. Its torch.export-based successor (the default from
torch 2.9) does not yet take this model: it fails on the strides of the fused
attention's inputs.
"""
import inspect
import json
import tempfile
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Optional, Union

import torch
from torch import nn

from ..fileio import atomic_open
from ..models.backbones import SparseSwinTransformer
from ..version import __version__
from .errors import DeploymentError, require_packages
from .exportable import ExportableBackbone

if TYPE_CHECKING:
    import onnx

DEFAULT_OPSET = 17  # fused attention and LayerNormalization export as single operators
# what the file records about itself (ONNX metadata_props)
META_SPARSITY = 'sparsevit.sparsity'
META_INPUT_SHAPE = 'sparsevit.input_shape'
META_VERSION = 'sparsevit.version'
META_PARTS = 'sparsevit.parts'
META_STAGE0_SCORING = 'sparsevit.score_before_patch_norm'


def trace_onnx(module: nn.Module, inputs: tuple, input_names: list[str],
               output_names: list[str], opset: int = DEFAULT_OPSET) -> 'onnx.ModelProto':
    """The ONNX model of ``module`` traced on ``inputs`` (the TorchScript-based exporter; no
    file is left behind)."""
    require_packages('onnx')
    import onnx
    kwargs = {'dynamo': False} if 'dynamo' in inspect.signature(torch.onnx.export).parameters \
        else {}
    with torch.no_grad(), warnings.catch_warnings(), \
            tempfile.TemporaryDirectory(prefix='sparsevit-onnx-') as folder:
        # the tracer warns that Python values (ratios, window counts) are fixed: they are meant
        # to be; newer torch warns that this exporter is deprecated (see the module docstring)
        warnings.simplefilter('ignore', torch.jit.TracerWarning)
        warnings.simplefilter('ignore', DeprecationWarning)
        warnings.filterwarnings('ignore', message='Constant folding')
        traced = Path(folder) / 'model.onnx'
        torch.onnx.export(module, inputs, str(traced), input_names=input_names,
                          output_names=output_names, opset_version=opset, **kwargs)
        return onnx.load(str(traced))


def export_onnx(backbone: SparseSwinTransformer, path: Union[str, Path], batch: int,
                height: int, width: int, opset: int = DEFAULT_OPSET,
                neck: Optional[nn.Module] = None) -> dict:
    """Write ``backbone`` (followed by ``neck``, if given) at its current sparsity for
    ``(batch, C, height, width)`` input.

    The window selection (token magnitudes, ranking, gathers and scatters of
    the kept windows) is part of the graph, so the kept windows still follow
    the image; the configuration and the shape are fixed and recorded in the
    file's metadata. The file is written atomically.

    Returns:
        The recorded metadata: ``sparsity``, ``input_shape``, ``parts`` and ``outputs``.
    """
    require_packages('onnx')
    if batch < 1 or height < 1 or width < 1:
        raise DeploymentError(f'input shape must be positive, got batch {batch}, '
                              f'{height}x{width}')
    module = ExportableBackbone(backbone, neck).eval()
    images = torch.randn(batch, backbone.in_channels, height, width)
    with torch.no_grad():
        module(images)  # names the outputs
    model = trace_onnx(module, (images, ), ['images'], module.output_names, opset)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    metadata = dict(sparsity=backbone.sparsity, input_shape=list(images.shape),
                    parts='backbone' if neck is None else 'backbone+neck',
                    outputs=module.output_names)
    recorded = {META_SPARSITY: backbone.sparsity, META_INPUT_SHAPE: metadata['input_shape'],
                META_PARTS: metadata['parts'], META_VERSION: __version__,
                META_STAGE0_SCORING: backbone.score_before_patch_norm}
    for key, value in recorded.items():
        model.metadata_props.add(key=key, value=json.dumps(value))
    with atomic_open(path, 'wb') as f:
        f.write(model.SerializeToString())
    return metadata
