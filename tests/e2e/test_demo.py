"""A shortened run of the README's main job (tools/demo.py --quick), end to end."""
import json
from pathlib import Path

import pytest

from ..helpers import REPO
from ..helpers import load_tool as tool

pytestmark = pytest.mark.slow


@pytest.fixture(scope='module')
def quick_demo(tmp_path_factory):
    root = tmp_path_factory.mktemp('demo')
    summary = tool('demo').main(['--quick', '--work-dir', str(root / 'work'),
                                 '--data-root', str(root / 'data')])
    return root, summary


def test_quick_demo_runs_every_step_and_writes_its_pictures(quick_demo):
    root, summary = quick_demo
    rows = summary['rows']
    assert [r['model'] for r in rows] == ['dense model', 'dense model', 'SAA model', 'SAA model',
                                          'fine-tuned model']
    assert rows[0]['sparsity'] == [0.0] * 4 and rows[0]['speedup'] == 1.0
    assert rows[1]['sparsity'] == summary['best_sparsity'] != [0.0] * 4
    assert all(r['latency_ms'] > 0 and 0.0 <= r['bbox_mAP'] <= 1.0 for r in rows)
    for name in ('search_plot', 'windows'):
        assert Path(summary['files'][name]).read_bytes()[:4] == b'\x89PNG'
    assert json.loads(Path(summary['files']['summary']).read_text())['rows'] == rows
    finetune = Path(summary['files']['finetune_config']).read_text()
    assert f'sparsity={summary["best_sparsity"]!r}' in finetune
    for step in ('dense', 'saa', 'finetune'):
        assert list((root / 'work' / step).glob('iter_*.pth'))


def test_visualize_windows_tool(quick_demo, tmp_path):
    root, summary = quick_demo
    image = sorted((root / 'data' / 'val2017').iterdir())[0]
    config = REPO / 'configs' / 'demo' / 'mask-rcnn_swin-mini-p4-w7_fpn_ft_demo-coco.py'
    out = tool('analysis/visualize_windows').main([
        str(config), str(root / 'work' / 'finetune' / 'iter_2.pth'), str(image),
        '--sparsity', json.dumps(summary['best_sparsity']), '--out', str(tmp_path / 'w.png')])
    assert Path(out).read_bytes()[:4] == b'\x89PNG'
