"""torch.compile of the sparse backbone for inference at fixed configurations and shapes."""
from typing import Any

import torch
from torch import nn

from ..models.backbones import SparseSwinTransformer

# torch.compile keeps this many graphs of one forward (its default recompile limit); past it,
# the forward runs eagerly again
MAX_COMPILED_VARIANTS = 8


def compile_backbone(backbone: SparseSwinTransformer, **options: Any) -> nn.Module:
    """``torch.compile(backbone, dynamic=False, **options)`` for inference.

    The number of windows each block keeps is a Python int of the configuration
    and the input size, so the compiled forward is specialized to both: the
    first call at a new configuration (the ``sparsity`` attribute) or input
    shape compiles once, later calls at a configuration or shape seen before
    reuse its graph, and which windows are kept still follows each image
    (scoring, ranking and gathers are inside the graph). At most
    :data:`MAX_COMPILED_VARIANTS` configuration-shape pairs stay compiled.
    """
    return torch.compile(backbone, dynamic=False, **options)
