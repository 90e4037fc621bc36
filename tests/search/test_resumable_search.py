"""The search run over a stand-in task: band check, log and resume, agreement on errors."""
import json

import pytest

from sparsevit.search.errors import LatencyBandError, SearchLogMismatch
from sparsevit.search.resumable_search import check_band, run_search
from sparsevit.search.search_log import SearchLog

from .fakes import SETTINGS, SPACE, FakeTask, settings_dict


def test_band_outside_what_the_model_can_reach_is_refused_before_searching():
    task = FakeTask()
    with pytest.raises(LatencyBandError, match=r'no configuration can meet the latency band '
                       r'\[10.0, 20.0\] ms: the sparsest \(all 0.8\) measured 36.00 ms'):
        check_band(SPACE, (10.0, 20.0), lambda p: task.latency(SPACE.to_sparsity(p)))
    with pytest.raises(LatencyBandError, match=r'the latency band \[80.0, 70.0\] ms is empty'):
        check_band(SPACE, (80.0, 70.0), lambda p: 0.0)


def test_search_logs_every_candidate_and_resumes_a_killed_run(tmp_path):
    reference = run_search(FakeTask(), SPACE, SETTINGS, (55.0, 75.0),
                           SearchLog(tmp_path / 'ref.jsonl', settings_dict()))
    path = tmp_path / 'log.jsonl'
    with pytest.raises(KeyboardInterrupt):
        run_search(FakeTask(fail_after=12), SPACE, SETTINGS, (55.0, 75.0),
                   SearchLog(path, settings_dict()))
    with open(path, 'a') as f:
        f.write('{"type": "latency", "point": [0.1')  # torn by the kill
    again = FakeTask()
    resumed = run_search(again, SPACE, SETTINGS, (55.0, 75.0), SearchLog(path, settings_dict()))
    assert resumed.candidates == reference.candidates and resumed.best == reference.best
    measured_before = 12
    assert len(again.latency_calls) == len(reference.candidates) + 2 - measured_before
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert records[0] == {'settings': json.loads(json.dumps(settings_dict()))}
    candidates = [r for r in records[1:] if r['type'] == 'candidate']
    assert [tuple(r['point']) for r in candidates] == [c.point for c in reference.candidates]
    for record in candidates:
        assert record['feasible'] == (55.0 <= record['latency_ms'] <= 75.0)
        assert (record['metric'] is None) == (not record['feasible'])
        assert record['sparsity'] == SPACE.to_sparsity(record['point'])


def test_a_log_of_other_settings_is_refused(tmp_path):
    path = tmp_path / 'log.jsonl'
    run_search(FakeTask(), SPACE, SETTINGS, (55.0, 75.0), SearchLog(path, settings_dict()))
    with pytest.raises(SearchLogMismatch, match=r'other settings \(differing: band\): search in '
                       r'another directory, or delete it to start over'):
        SearchLog(path, dict(settings_dict(), band=[50.0, 75.0]))


def test_unknown_metric_key_leaves_no_log(tmp_path):
    class NoSuchMetric(FakeTask):
        def metric(self, sparsity):
            raise KeyError("the evaluator produced no metric 'coco/nope'")

    path = tmp_path / 'log.jsonl'
    with pytest.raises(KeyError, match='coco/nope'):
        run_search(NoSuchMetric(), SPACE, SETTINGS, (55.0, 75.0), SearchLog(path, settings_dict()))
    assert not path.exists()
