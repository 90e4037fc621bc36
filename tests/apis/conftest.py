"""A search work dir with a Pareto front, for the APIs that read one."""
import json

import pytest

FRONT = [dict(sparsity=[0.8, 0.8, 0.8, 0.8], latency_ms=10.0, metric=0.50),
         dict(sparsity=[0.6, 0.5, 0.4, 0.0], latency_ms=14.0, metric=0.70),
         dict(sparsity=[0.3, 0.0, 0.2, 0.0], latency_ms=18.0, metric=0.80)]


@pytest.fixture
def search_dir(tmp_path):
    (tmp_path / 'pareto.json').write_text(json.dumps(FRONT))
    return tmp_path
