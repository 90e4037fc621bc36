"""What a configuration costs (measured backbone latency and where it goes, counted FLOPs),
what it keeps (the windows kept on an image, and their object coverage), and the allocator
setting that makes CPU timings repeatable."""
from .allocator import keep_freed_memory
from .flops import backbone_flops
from .kept_windows import kept_window_ids, record_windows
from .latency import (DTYPES, BackboneTimer, LatencyProtocol, LatencyResult, measure_interleaved,
                      middle_half_mean, summarize)
from .op_profile import OpProfile, profile_categories
from .window_coverage import WindowCoverage, object_coverage, object_polygons

__all__ = [
    'BackboneTimer', 'DTYPES', 'LatencyProtocol', 'LatencyResult', 'OpProfile',
    'WindowCoverage', 'backbone_flops', 'keep_freed_memory', 'kept_window_ids',
    'measure_interleaved',
    'middle_half_mean', 'object_coverage', 'object_polygons', 'profile_categories',
    'record_windows', 'summarize'
]
