"""What a configuration costs: measured backbone latency and counted FLOPs."""
from .flops import backbone_flops
from .latency import (DTYPES, LatencyProtocol, LatencyResult, measure_interleaved, middle_half_mean,
                      summarize)

__all__ = [
    'DTYPES', 'LatencyProtocol', 'LatencyResult', 'backbone_flops', 'measure_interleaved',
    'middle_half_mean', 'summarize'
]
