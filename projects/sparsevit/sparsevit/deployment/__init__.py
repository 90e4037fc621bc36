"""Deployment of the sparse backbone: ONNX export at a fixed configuration and shape, ONNX
Runtime sessions that refuse anything else, checks against PyTorch, torch.compile and CUDA graphs.

onnx and onnxruntime are the optional ``deploy`` extra; they are imported only when used.
"""
from .compiled import MAX_COMPILED_VARIANTS, CompiledSparseBackbone, compile_backbone
from .cuda_graph import MAX_CUDA_GRAPHS, CudaGraphBackbone, capture_cuda_graph
from .errors import DeploymentError, MissingDeployPackageError, require_packages
from .exportable import ExportableBackbone
from .onnx_backbone import OnnxBackbone
from .onnx_export import export_onnx
from .task_model import input_normalization, load_sparse_backbone, model_neck
from .verify import TOLERANCE, Agreement, check_inputs, compare_with_pytorch, verify_file

__all__ = [
    'Agreement', 'CompiledSparseBackbone', 'CudaGraphBackbone', 'DeploymentError',
    'ExportableBackbone', 'MAX_COMPILED_VARIANTS', 'MAX_CUDA_GRAPHS', 'MissingDeployPackageError',
    'OnnxBackbone', 'TOLERANCE', 'capture_cuda_graph', 'check_inputs', 'compare_with_pytorch',
    'compile_backbone', 'export_onnx', 'input_normalization', 'load_sparse_backbone', 'model_neck',
    'require_packages', 'verify_file'
]
