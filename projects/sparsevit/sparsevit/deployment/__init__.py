"""Deployment of the sparse backbone: ONNX export at a fixed configuration and shape, ONNX
Runtime sessions that refuse anything else, checks against PyTorch, and torch.compile.

onnx and onnxruntime are the optional ``deploy`` extra; they are imported only when used.
"""
from .compiled import MAX_COMPILED_VARIANTS, CompiledSparseBackbone, compile_backbone
from .errors import DeploymentError, MissingDeployPackageError, require_packages
from .exportable import ExportableBackbone
from .onnx_backbone import OnnxBackbone
from .onnx_export import export_onnx
from .task_model import input_normalization, load_sparse_backbone, model_neck
from .verify import TOLERANCE, Agreement, check_inputs, compare_with_pytorch, verify_file

__all__ = [
    'Agreement', 'CompiledSparseBackbone', 'DeploymentError', 'ExportableBackbone',
    'MAX_COMPILED_VARIANTS', 'MissingDeployPackageError', 'OnnxBackbone', 'TOLERANCE',
    'check_inputs', 'compare_with_pytorch', 'compile_backbone', 'export_onnx',
    'input_normalization', 'load_sparse_backbone', 'model_neck', 'require_packages', 'verify_file'
]
