"""TaskEvaluator's latency, plain and relative to the dense backbone timed beside it, and the
names of its runners."""
import pytest
from mmengine.config import Config

from sparsevit.search import TaskEvaluator
from sparsevit.search.task_evaluator import _experiment_name


class DriftingMachine:
    """``latencies`` of a machine that gets 10% slower with every timing run: 10 ms dense,
    6 ms under any other configuration, at its first run."""

    def __init__(self):
        self.slowdown = 1.0

    def __call__(self, configs: dict) -> dict:
        self.slowdown *= 1.1
        return {name: (10.0 if c is None else 6.0) * self.slowdown for name, c in configs.items()}


def evaluator(dense_reference_ms):
    task = TaskEvaluator.__new__(TaskEvaluator)  # only the latency part, no model
    task.dense_reference_ms, task.latencies = dense_reference_ms, DriftingMachine()
    return task


def test_latency_relative_to_dense_ignores_the_drift():
    task = evaluator(dense_reference_ms=20.0)
    assert [task.latency([0.5] * 4) for _ in range(3)] == pytest.approx([12.0] * 3)


def test_plain_latency_follows_the_machine():
    task = evaluator(dense_reference_ms=None)
    assert [task.latency([0.5] * 4) for _ in range(2)] == pytest.approx([6.6, 7.26])


def test_evaluators_of_one_second_get_runners_of_their_own(tmp_path):
    (tmp_path / 'mask_rcnn_saa.py').write_text('model = dict()\n')
    cfg = Config.fromfile(str(tmp_path / 'mask_rcnn_saa.py'))
    first, second = _experiment_name(cfg), _experiment_name(cfg)
    assert first != second and first.startswith('mask_rcnn_saa_')
