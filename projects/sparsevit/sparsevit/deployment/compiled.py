"""torch.compile of the sparse backbone for inference at fixed configurations and shapes."""
from typing import Any

import torch
from torch import Tensor, nn

from ..environment import version_tuple
from ..models.backbones import SparseSwinTransformer
from .errors import DeploymentError

# torch.compile keeps this many graphs of one forward (its default recompile limit); past it,
# the forward runs eagerly again
MAX_COMPILED_VARIANTS = 8
# torch.compiler.is_compiling, which the backbone's capture checks use, is torch >= 2.3; torch
# 2.1's inductor fails on mmdet's own SwinTransformer as well
MIN_TORCH = (2, 3)


class CompiledSparseBackbone(nn.Module):
    """A :class:`SparseSwinTransformer` whose forward runs compiled by torch.compile.

    The number of windows each block keeps is a Python int of the configuration
    and the input size, so the compiled forward is specialized to both: the
    first call at a new configuration (the backbone's ``sparsity``) or input
    shape compiles once, later calls at a configuration or shape seen before
    reuse its graph, and which windows are kept still follows each image
    (scoring, ranking and gathers are inside the graph). The configuration is
    passed to the compiled function as an argument, on which every torch
    guards. Needs torch >= 2.3. At most
    :data:`MAX_COMPILED_VARIANTS` configuration-shape pairs stay compiled.

    Args:
        backbone: the backbone; it is shared, not copied.
        **options: options of ``torch.compile`` (``dynamic`` is False).
    """

    def __init__(self, backbone: SparseSwinTransformer, **options: Any):
        if version_tuple(torch.__version__) < MIN_TORCH:
            raise DeploymentError(
                f'compiling the sparse backbone needs torch >= {".".join(map(str, MIN_TORCH))}, '
                f'found {torch.__version__}; run it in eager mode or export it to ONNX')
        super().__init__()
        self.backbone = backbone
        self.compiled_forward = torch.compile(backbone.forward_at, dynamic=False, **options)

    def forward(self, images: Tensor) -> list[Tensor]:
        return self.compiled_forward(images, self.backbone.block_ratios)


def compile_backbone(backbone: SparseSwinTransformer, **options: Any) -> CompiledSparseBackbone:
    """``backbone`` compiled for inference (see :class:`CompiledSparseBackbone`)."""
    return CompiledSparseBackbone(backbone, **options)
