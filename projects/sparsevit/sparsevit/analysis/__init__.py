"""What a configuration costs (measured backbone latency, counted FLOPs) and what it keeps
(object coverage of the kept windows)."""
from .flops import backbone_flops
from .latency import (DTYPES, LatencyProtocol, LatencyResult, measure_interleaved, middle_half_mean,
                      summarize)
from .window_coverage import WindowCoverage, object_coverage, object_polygons

__all__ = [
    'DTYPES', 'LatencyProtocol', 'LatencyResult', 'WindowCoverage', 'backbone_flops',
    'measure_interleaved', 'middle_half_mean', 'object_coverage', 'object_polygons', 'summarize'
]
