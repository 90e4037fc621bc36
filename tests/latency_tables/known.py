"""A latency table with known entries, written by hand: no timing involved."""
import json
from pathlib import Path

from sparsevit.latency_tables.table import FORMAT, FORMAT_VERSION, ratio_key

ARCHITECTURE = dict(in_channels=3, embed_dims=24, patch_size=4, patch_stride=4,
                    depths=[2, 2, 4, 2], num_heads=[1, 2, 4, 8], window_size=4,
                    mlp_hidden=[96, 192, 384, 768], qkv_bias=True, patch_norm=True,
                    use_abs_pos_embed=False, out_indices=[0, 1, 2, 3],
                    score_before_patch_norm=False)


def block_ms(stage: int, ratio: float) -> float:
    """The known cost of one block: 10 ms per stage index + 1, halved at ratio 0.5."""
    return 10.0 * (stage + 1) * (1.0 - ratio)


def scoring_ms(stage: int) -> float:
    return 1.0 + stage


def known_table(depths=(2, 2, 4, 2), choices=(0.0, 0.5), shape=(64, 64), batch=1,
                fixed_ms=7.0) -> dict:
    """A table whose predictions follow :func:`block_ms`, :func:`scoring_ms` and ``fixed_ms``."""
    architecture = dict(ARCHITECTURE, depths=list(depths))
    return dict(
        format=FORMAT, format_version=FORMAT_VERSION,
        protocol=dict(runtime='pytorch', runtime_version='torch (test)', device='cpu',
                      device_name='test cpu', threads=1, dtype='fp32', batch=batch,
                      shape=list(shape), warmup=0, runs=1, date='2026-01-01T00:00:00+00:00',
                      measure_seconds=0.0),
        backbone=dict(source='known', kwargs={}, architecture=architecture,
                      fingerprint='0' * 16),
        choices=list(choices),
        dense_ms=fixed_ms + sum(d * block_ms(s, 0.0) for s, d in enumerate(depths)),
        fixed_ms=fixed_ms,
        stages=[dict(depth=d, windows=16, scoring_ms=scoring_ms(s),
                     block_ms={ratio_key(c): block_ms(s, c) for c in choices})
                for s, d in enumerate(depths)])


def write_table(path: Path, **kwargs) -> Path:
    path.write_text(json.dumps(known_table(**kwargs), indent=2))
    return path
