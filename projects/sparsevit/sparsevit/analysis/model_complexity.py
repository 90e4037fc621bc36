"""FLOPs and parameters of a whole task model on one batch, counted as mmdet's tool counts them.

mmengine's ``FlopAnalyzer`` traces the model in ``tensor`` mode and counts each
multiply-add once (the fvcore convention of mmdet's ``get_flops.py``). The sparse
backbone runs on the windows it keeps, so the trace holds only their work.
Fused attention, which the analyzer does not know, is counted here as its two
matrix products.
"""
from math import prod
from typing import Any

import torch
from mmengine.analysis import FlopAnalyzer, parameter_count
from mmengine.analysis.jit_handles import get_shape
from torch import nn


def attention_flop_jit(inputs: list, outputs: list) -> int:
    """Multiply-adds of ``scaled_dot_product_attention``: ``q @ k^T`` and ``weights @ v``."""
    query, key, value = (get_shape(v) for v in inputs[:3])
    rows = prod(query[:-1])  # batch x heads x queries
    return rows * key[-2] * query[-1] + rows * key[-2] * value[-1]


class TensorMode(nn.Module):
    """``model(inputs, data_samples, mode='tensor')`` as a module the analyzer can trace."""

    def __init__(self, model: nn.Module, data_samples: list):
        super().__init__()
        self.model, self.data_samples = model, data_samples

    def forward(self, inputs: Any):
        return self.model(inputs, self.data_samples, mode='tensor')


def model_flops(model: nn.Module, batch: dict) -> dict[str, int]:
    """Multiply-adds of ``model`` on ``batch`` (as a dataloader yields it): the total under
    ``''`` and per submodule under its name (``backbone``, ``img_backbone``, ``neck``, ...)."""
    data = model.data_preprocessor(batch, False)
    with torch.no_grad():
        analyzer = FlopAnalyzer(TensorMode(model, data['data_samples']), (data['inputs'], ))
        analyzer.set_op_handle('aten::scaled_dot_product_attention', attention_flop_jit)
        analyzer.unsupported_ops_warnings(False)
        analyzer.uncalled_modules_warnings(False)
        counts = analyzer.by_module()
    return {name[len('model.'):] if name.startswith('model.') else name: count
            for name, count in counts.items() if name != 'model'}


def parameters(model: nn.Module) -> int:
    """Number of parameters of ``model``."""
    return parameter_count(model)['']
