"""A shortened run of the README's main job (tools/demo.py --quick), end to end."""
import hashlib
import json
from dataclasses import replace
from pathlib import Path

import pytest

from sparsevit.demo.pipeline import DemoPlan, prepare_demo_data
from sparsevit.demo.synthetic_coco import coco_recipe
from sparsevit.latency_tables import LatencyTable
from sparsevit.search.pipeline import LOG_NAME

from .. import machine_share
from ..helpers import REPO
from ..helpers import load_tool as tool

pytestmark = pytest.mark.slow


@pytest.fixture(scope='module')
def quick_demo(tmp_path_factory):
    root = tmp_path_factory.mktemp('demo')
    with machine_share.alone(tmp_path_factory):  # the demo's search runs on timings
        summary = tool('demo').main(['--quick', '--ablations', '--work-dir',
                                     str(root / 'work'), '--data-root', str(root / 'data')])
    return root, summary


def test_quick_demo_runs_every_step_and_writes_its_pictures(quick_demo):
    root, summary = quick_demo
    rows = summary['rows']
    assert [r['model'] for r in rows[:7]] == ['dense model', 'dense model', 'SAA model',
                                              'SAA model', 'fine-tuned model',
                                              'SAA model, uniform', 'dense model, smaller']
    # a row on the slower side of a padding gap when no smaller input was within 5%
    assert [r['model'] for r in rows[7:]] in ([], ['dense model, smaller, slower'])
    assert rows[0]['sparsity'] == [0.0] * 4 and rows[0]['speedup'] == 1.0
    assert rows[1]['sparsity'] == summary['best_sparsity'] != [0.0] * 4
    assert all(r['latency_ms'] > 0 and 0.0 <= r['bbox_mAP'] <= 1.0 for r in rows)
    assert all(r['input'] == [256, 256] for r in rows[:6])
    equal = summary['equal_latency']
    assert rows[5]['sparsity'] == [equal['uniform_ratio']] * 4
    assert rows[5]['latency_ms'] == equal['uniform_ms']
    assert rows[6]['latency_ms'] == equal['size_ms']
    assert rows[6]['sparsity'] == [0.0] * 4 and rows[6]['input'] == equal['size']
    assert equal['size'][0] * equal['size'][1] < 256 * 256
    assert rows[4]['latency_ms'] == equal['target_ms']
    # the search predicted from a table measured before it; the searched row is timed live
    check = summary['latency_table']
    table = LatencyTable.load(check['table'])
    assert check['predicted_ms'] == table.predict(summary['best_sparsity']) > 0
    assert check['measured_ms'] == equal['target_ms'] > 0
    assert check['dense_ratio'] == equal['dense_ms'] / table.dense_ms
    assert summary['files']['latency_table'] == check['table']
    # the band is within the table's reach: its sparsest uniform configuration predicts below it
    assert table.predict([max(table.choices)] * 4) < summary['band_ms'][1]
    assert hashlib.sha256(Path(check['table']).read_bytes()).hexdigest() in (
        root / 'work' / 'search' / LOG_NAME).read_text()
    low, high = summary['band_of_dense']  # the part of the plan's band a smaller input matches
    assert DemoPlan().band[0] <= low < high <= DemoPlan().band[1]
    coverage = summary['coverage']
    assert 0.0 <= coverage['coverage'] <= 1.0 and 0.0 < coverage['kept_fraction'] <= 1.0
    assert coverage['windows'] == 3 * 100  # three validation images, 10 x 10 stage-0 windows
    per_stage = summary['coverage_per_stage']
    assert per_stage[0] == coverage and [c['windows'] for c in per_stage] == [300, 75, 27, 12]
    paper_rule = summary['coverage_paper_rule']  # the same windows count, another choice
    assert paper_rule['windows'] == 300 and paper_rule['kept_windows'] == coverage['kept_windows']
    ablation = summary['ablation']
    assert set(ablation) == {'evolution', 'random'}
    assert all(a['evaluations'] >= 1 for a in ablation.values())
    for name in ('search_plot', 'windows', 'ablation_plot'):
        assert Path(summary['files'][name]).read_bytes()[:4] == b'\x89PNG'
    assert json.loads(Path(summary['files']['summary']).read_text())['rows'] == rows
    finetune = Path(summary['files']['finetune_config']).read_text()
    assert f'sparsity={summary["best_sparsity"]!r}' in finetune
    for step in ('dense', 'saa', 'finetune'):
        assert list((root / 'work' / step).glob('iter_*.pth'))


def testprepare_demo_data_is_reused_only_when_its_recipe_matches(quick_demo, tmp_path):
    root, _ = quick_demo
    recipe = json.loads((root / 'data' / 'generator.json').read_text())
    plan = DemoPlan(data_root=str(root / 'data')).quick()
    assert recipe == coco_recipe(plan.num_train, plan.num_val, (256, 256), plan.seed)
    stamp = (root / 'data' / 'annotations' / 'instances_val2017.json').stat().st_mtime_ns
    prepare_demo_data(plan)
    assert (root / 'data' / 'annotations' / 'instances_val2017.json').stat().st_mtime_ns == stamp
    other = replace(plan, data_root=str(tmp_path / 'data'))
    (tmp_path / 'data').mkdir()
    (tmp_path / 'data' / 'generator.json').write_text(json.dumps(dict(recipe, version=1)))
    prepare_demo_data(other)  # files of an older generator are drawn again
    assert json.loads((tmp_path / 'data' / 'generator.json').read_text()) == recipe


def test_visualize_windows_tool(quick_demo, tmp_path):
    root, summary = quick_demo
    image = sorted((root / 'data' / 'val2017').iterdir())[0]
    config = REPO / 'configs' / 'demo' / 'mask-rcnn_swin-mini-p4-w7_fpn_ft_demo-coco.py'
    out = tool('analysis/visualize_windows').main([
        str(config), str(root / 'work' / 'finetune' / 'iter_2.pth'), str(image),
        '--sparsity', json.dumps(summary['best_sparsity']), '--out', str(tmp_path / 'w.png')])
    assert Path(out).read_bytes()[:4] == b'\x89PNG'
