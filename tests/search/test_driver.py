"""The search driver with a stand-in task: band check, log and resume, outputs."""
import json

import pytest
from mmengine.config import Config

from sparsevit.search import EvolutionSettings
from sparsevit.search.driver import check_band, finetune_config_text, run_search, write_outputs
from sparsevit.search.log import SearchLog
from sparsevit.search_space import SearchSpace
from sparsevit.sparsity import normalize_sparsity

SPACE = SearchSpace((2, 2, 6, 2))
SETTINGS = EvolutionSettings(population=8, parents=2, mutation_prob=0.3, budget=60, seed=0)


class FakeTask:
    """Latency falls and the metric falls with the mean ratio; counts its calls."""

    def __init__(self, fail_after=None):
        self.latency_calls, self.metric_calls, self.fail_after = [], [], fail_after

    def latency(self, sparsity):
        if self.fail_after is not None and len(self.latency_calls) >= self.fail_after:
            raise KeyboardInterrupt  # the process is killed here
        self.latency_calls.append(sparsity)
        ratios = [r for stage in normalize_sparsity(sparsity, SPACE.depths) for r in stage]
        return 100.0 - 80.0 * sum(ratios) / len(ratios)

    def metric(self, sparsity):
        self.metric_calls.append(sparsity)
        ratios = [r for stage in normalize_sparsity(sparsity, SPACE.depths) for r in stage]
        return 0.5 - sum(r * r for r in ratios) / len(ratios) - 0.01 * ratios[0]


def settings_dict():
    return dict(band=[55.0, 75.0], **SETTINGS.__dict__)


def test_band_outside_what_the_model_can_reach_is_refused_before_searching():
    task = FakeTask()
    with pytest.raises(ValueError, match=r'no configuration can meet the latency band \[10.0, '
                       r'20.0\] ms: the sparsest \(all 0.8\) measured 36.00 ms'):
        check_band(SPACE, (10.0, 20.0), lambda p: task.latency(SPACE.to_sparsity(p)))
    with pytest.raises(ValueError, match='above --latency-max'):
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
    with pytest.raises(ValueError, match=r'other settings \(differing: band\)'):
        SearchLog(path, dict(settings_dict(), band=[50.0, 75.0]))


def test_unknown_metric_key_leaves_no_log(tmp_path):
    class NoSuchMetric(FakeTask):
        def metric(self, sparsity):
            raise KeyError("the evaluator produced no metric 'coco/nope'")

    path = tmp_path / 'log.jsonl'
    with pytest.raises(KeyError, match='coco/nope'):
        run_search(NoSuchMetric(), SPACE, SETTINGS, (55.0, 75.0), SearchLog(path, settings_dict()))
    assert not path.exists()


def test_outputs(tmp_path):
    result = run_search(FakeTask(), SPACE, SETTINGS, (55.0, 75.0),
                        SearchLog(tmp_path / 'log.jsonl', settings_dict()))
    cfg = Config(dict(model=dict(backbone=dict(type='SparseSwinTransformer')),
                      custom_hooks=[dict(type='DataFilesCheckHook'),
                                    dict(type='SparsityAdaptationHook')]))
    (tmp_path / 'saa.py').write_text('model = dict()\n')
    files = write_outputs(result, SPACE, tmp_path, (55.0, 75.0), 'coco/bbox_mAP', {'device': 'cpu'},
                          str(tmp_path / 'saa.pth'), str(tmp_path / 'saa.py'), cfg, None)
    best = json.loads(files['best.json'].read_text())
    assert best['sparsity'] == SPACE.to_sparsity(result.best.point)
    assert best['metric'] == result.best.metric and 55.0 <= best['latency_ms'] <= 75.0
    assert set(best['genes']) == {g.name for g in SPACE.genes}
    front = json.loads(files['pareto.json'].read_text())
    assert [p['latency_ms'] for p in front] == sorted(p['latency_ms'] for p in front)
    assert all(a['metric'] < b['metric'] for a, b in zip(front, front[1:]))
    assert files['search.png'].read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    finetune = Config.fromfile(str(files['config']))
    assert finetune.model.backbone.sparsity == best['sparsity']
    assert finetune.load_from == str(tmp_path / 'saa.pth')
    assert [h['type'] for h in finetune.custom_hooks] == ['DataFilesCheckHook']


def test_finetune_config_on_a_given_base_uses_img_backbone_for_mmdet3d(tmp_path):
    text = finetune_config_text('/cfg/ft.py', '/ckpt/saa.pth', 'img_backbone', [0.5, 0, 0, 0],
                                None, 'note')
    assert "model = dict(img_backbone=dict(sparsity=[0.5, 0, 0, 0]))" in text
    assert "custom_hooks" not in text and "_base_ = '/cfg/ft.py'" in text
