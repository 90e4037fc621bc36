"""TaskEvaluator's latency, timed or predicted from a table, and the names of its runners."""
from mmengine.config import Config

from sparsevit.search import TaskEvaluator
from sparsevit.search.task_evaluator import _experiment_name


class Machine:
    """``latencies`` of a machine that times 6 ms under any configuration."""

    def __init__(self):
        self.timed = []

    def __call__(self, configs: dict) -> dict:
        self.timed.append(configs)
        return {name: 6.0 for name in configs}


class Table:
    """A latency table's predictions: 10 ms per unit of the first stage's ratio."""

    def latency(self, sparsity) -> float:
        return 10.0 * sparsity[0]


def evaluator(latency_table=None):
    task = TaskEvaluator.__new__(TaskEvaluator)  # only the latency part, no model
    task.latency_table, task.latencies = latency_table, Machine()
    return task


def test_latency_is_timed_live_without_a_table():
    task = evaluator()
    assert task.latency([0.5] * 4) == 6.0
    assert task.latencies.timed == [{'candidate': [0.5] * 4}]


def test_latency_is_predicted_from_the_table_without_timing():
    task = evaluator(Table())
    assert task.latency([0.5] * 4) == 5.0 and task.latencies.timed == []


def test_evaluators_of_one_second_get_runners_of_their_own(tmp_path):
    (tmp_path / 'mask_rcnn_saa.py').write_text('model = dict()\n')
    cfg = Config.fromfile(str(tmp_path / 'mask_rcnn_saa.py'))
    first, second = _experiment_name(cfg), _experiment_name(cfg)
    assert first != second and first.startswith('mask_rcnn_saa_')
