"""Where the time of a forward goes: operator self-times from ``torch.profiler``, by category.

Every operator's self time (its own, without the operators it calls) goes to one
category by its name, so the categories add up to the profiled total. Profiling
adds a little time to every operator, which weighs most on the small ones: compare
categories between configurations profiled alike, not with unprofiled latencies.
"""
from dataclasses import dataclass, field
from typing import Callable

import torch
from torch.profiler import ProfilerActivity, profile

# operator names (without the ``aten::`` prefix) of each category; anything else is 'the rest'
CATEGORIES: dict[str, frozenset] = {
    'matrix products': frozenset({
        'addmm', 'mm', 'bmm', 'baddbmm', 'matmul', 'linear', 'mkldnn_linear',
        '_mkldnn_linear', 'mkldnn_convolution', 'convolution', '_convolution',
        'conv2d'}),
    'attention': frozenset({
        'scaled_dot_product_attention', '_scaled_dot_product_flash_attention_for_cpu',
        '_scaled_dot_product_attention_math', '_scaled_dot_product_flash_attention',
        '_scaled_dot_product_efficient_attention', '_scaled_dot_product_cudnn_attention',
        'softmax', '_softmax'}),
    'norms': frozenset({'layer_norm', 'native_layer_norm'}),
    'copies and layout': frozenset({
        'copy_', 'clone', 'contiguous', 'index_select', 'index_copy_', 'index_copy',
        'index_put_', 'index_put', '_index_put_impl_', 'index', 'gather', 'scatter', 'cat',
        'stack', 'constant_pad_nd', 'pad', 'roll', 'reshape', '_reshape_alias', 'flatten',
        'permute', 'transpose', 'view', 'expand', 'slice', 'select', 'unbind', 'narrow',
        'as_strided', 'split', 'chunk', 'empty', 'empty_like', 'empty_strided', 'zeros',
        'zero_', 'fill_', 'new_zeros', 'to', '_to_copy'}),
    'selection and scoring': frozenset({
        'linalg_vector_norm', 'norm', 'abs', 'mean', 'sort', 'topk', 'argsort', 'arange'}),
}  # element-wise arithmetic (residual adds, GELU, masks) is in 'the rest'
REST = 'the rest'


def category_of(op: str) -> str:
    """The category of an operator name such as ``aten::index_select``."""
    name = op.split('::', 1)[-1]
    return next((c for c, names in CATEGORIES.items() if name in names), REST)


@dataclass
class OpProfile:
    """Milliseconds per call by category, and of the largest operators of 'the rest'."""
    calls: int
    categories: dict[str, float]
    rest_ops: dict[str, float] = field(default_factory=dict)

    @property
    def total_ms(self) -> float:
        return sum(self.categories.values())

    def to_dict(self) -> dict:
        return dict(calls=self.calls, total_ms=self.total_ms, categories=self.categories,
                    rest_ops=self.rest_ops)


def profile_categories(call: Callable[[], object], calls: int, device: torch.device,
                       warmup: int = 1) -> OpProfile:
    """Profile ``calls`` runs of ``call`` (after ``warmup`` untimed ones, in inference mode)
    and sum the operators' self times per category: device time on CUDA, else CPU time."""
    on_cuda = device.type == 'cuda'
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if on_cuda else [])
    with torch.inference_mode():
        for _ in range(warmup):
            call()
        with profile(activities=activities) as prof:
            for _ in range(calls):
                call()
            if on_cuda:
                torch.cuda.synchronize(device)
    categories = {c: 0.0 for c in (*CATEGORIES, REST)}
    rest: dict[str, float] = {}
    for event in prof.key_averages():
        if on_cuda:
            us = getattr(event, 'self_device_time_total', None)
            us = event.self_cuda_time_total if us is None else us
        else:
            us = event.self_cpu_time_total
        ms = us / 1000.0 / calls
        category = category_of(event.key)
        categories[category] += ms
        if category == REST and ms > 0:
            rest[event.key] = ms
    largest = dict(sorted(rest.items(), key=lambda item: -item[1])[:5])
    return OpProfile(calls, categories, largest)
