"""tools/search.py on generated COCO data with a tiny Swin Mask R-CNN (CPU)."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from sparsevit import CheckpointError
from sparsevit.analysis.allocator import KEPT_MEMORY, allocator_settings
from sparsevit.demo.synthetic_coco import generate_coco
from sparsevit.search.errors import (CheckpointMismatch, LatencyBandError, MetricNotFound,
                                     NotSAACheckpoint)

from ..e2e.helpers import mask_rcnn_demo_config
from ..helpers import REPO, forget_visualizers, free_port
from ..helpers import load_tool as tool

pytestmark = pytest.mark.slow

TINY = '''
model = dict(
    backbone=dict(embed_dims=24, depths=(2, 2, 2, 2), num_heads=(1, 2, 4, 8), window_size=4,
                  init_cfg=None),
    neck=dict(in_channels=[24, 48, 96, 192], out_channels=32),
    rpn_head=dict(in_channels=32, feat_channels=32),
    roi_head=dict(bbox_roi_extractor=dict(out_channels=32),
                  bbox_head=dict(in_channels=32, fc_out_channels=64, num_classes=3),
                  mask_roi_extractor=dict(out_channels=32),
                  mask_head=dict(in_channels=32, conv_out_channels=32, num_classes=3)),
    test_cfg=dict(rpn=dict(nms_pre=200, max_per_img=100),
                  rcnn=dict(score_thr=0.0, max_per_img=20)))
optim_wrapper = dict(optimizer=dict(lr=1e-3))  # learn something in a few iterations
'''
FAST = ['--population', '4', '--parents', '2', '--budget', '10', '--val-size', '3',
        '--latency-shape', '128', '128', '--latency-warmup', '1', '--latency-runs', '3',
        '--threads', '1']
WIDE = ['--latency-min', '0', '--latency-max', '100000']


@pytest.fixture(scope='module')
def saa(tmp_path_factory):
    """A tiny SAA-trained Mask R-CNN checkpoint and its config."""
    root = tmp_path_factory.mktemp('search')
    generate_coco(root / 'coco', num_train=16, num_val=3, image_size=(128, 128), seed=1)
    config = mask_rcnn_demo_config(root / 'saa_tiny.py',
                                   'mask-rcnn_sparse-swin-t-p4-w7_fpn_saa-1x_coco.py',
                                   root / 'coco', max_iters=60, extra=TINY)
    tool('train').main([str(config), '--work-dir', str(root / 'train')])
    return config, root / 'train' / 'iter_60.pth'


def candidates(work_dir):
    lines = (Path(work_dir) / 'search_log.jsonl').read_text().splitlines()[1:]
    return [(tuple(r['point']), r['metric']) for r in map(json.loads, lines)
            if r['type'] == 'candidate']


@pytest.fixture(scope='module')
def reference(saa, tmp_path_factory):
    """An uninterrupted single-process search with a band every candidate meets."""
    config, checkpoint = saa
    work_dir = tmp_path_factory.mktemp('reference')
    files = tool('search').main([str(config), str(checkpoint), *WIDE, *FAST,
                                 '--work-dir', str(work_dir)])
    return work_dir, files


def test_a_latency_table_search_refuses_the_allocator_setting(capsys):
    with pytest.raises(SystemExit):  # nothing is timed here to apply it to
        tool('search').parse_args(['config.py', 'checkpoint.pth', *WIDE, '--latency-table',
                                   'table.json', '--allocator', 'default'])
    assert '--allocator sets how this process times the candidates' in capsys.readouterr().err


def test_outputs_of_a_search(reference):
    work_dir, files = reference
    best = json.loads(Path(files['best.json']).read_text())
    found = candidates(work_dir)
    assert best['metric_key'] == 'coco/bbox_mAP' and best['proposals'] == 10
    assert best['metric'] == max(m for _, m in found)
    assert Path(files['search.png']).read_bytes()[:4] == b'\x89PNG'
    ft = Path(files['config']).read_text()
    assert f'sparsity={best["sparsity"]!r}' in ft and 'SparsityAdaptationHook' not in ft


def modelled_latency(sparsity) -> float:
    """A deterministic stand-in for measured latency: 10 ms x the mean kept fraction."""
    ratios = [r for stage in sparsity for r in (stage if isinstance(stage, list) else [stage])]
    return 10.0 * sum(1.0 - r for r in ratios) / len(ratios)


def test_band_is_honoured(saa, reference, tmp_path, monkeypatch):
    """Feasibility follows the band exactly (latency modelled here: no timing noise)."""
    from sparsevit.search import TaskEvaluator
    monkeypatch.setattr(TaskEvaluator, 'latencies', lambda self, configs, warmup=None, runs=None:
                        {name: modelled_latency(c) for name, c in configs.items()})
    config, checkpoint = saa
    # the first population does not depend on the band: split its modelled latencies in two
    first = sorted({modelled_latency(point) for point, _ in candidates(reference[0])[:4]})
    assert len(first) > 1
    limit = (first[len(first) // 2 - 1] + first[len(first) // 2]) / 2
    tool('search').main([str(config), str(checkpoint), '--latency-min', '0', '--latency-max',
                         str(limit), *FAST, '--work-dir', str(tmp_path)])
    assert allocator_settings().get('mallopt') == KEPT_MEMORY  # it times: freed memory reused
    records = [json.loads(line) for line in
               (tmp_path / 'search_log.jsonl').read_text().splitlines()[1:]]
    done = [r for r in records if r['type'] == 'candidate']
    assert any(not r['feasible'] for r in done) and any(r['feasible'] for r in done)
    for r in done:
        assert r['latency_ms'] == pytest.approx(modelled_latency(r['point']))
        assert r['feasible'] == (r['latency_ms'] <= limit)
        assert (r['metric'] is not None) == r['feasible']  # never evaluated outside the band


def test_killed_search_resumes_to_the_same_result(saa, reference, tmp_path):
    config, checkpoint = saa
    command = [sys.executable, str(REPO / 'tools' / 'search.py'), str(config), str(checkpoint),
               *WIDE, *FAST, '--work-dir', str(tmp_path)]
    process = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    log = tmp_path / 'search_log.jsonl'
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and process.poll() is None:
        if log.exists() and len(candidates(tmp_path)) >= 2:
            break
        time.sleep(0.2)
    assert process.poll() is None, 'the search finished before it could be killed'
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    before = candidates(tmp_path)
    tool('search').main(command[2:])
    after = candidates(tmp_path)
    assert after[:len(before)] == before  # nothing evaluated twice
    assert after == candidates(reference[0])
    best = json.loads((tmp_path / 'best.json').read_text())
    assert best['sparsity'] == json.loads(Path(reference[1]['best.json']).read_text())['sparsity']


def test_two_processes_give_the_single_process_result(saa, reference, tmp_path):
    config, checkpoint = saa
    subprocess.run([sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node', '2',
                    '--master_port', str(free_port()), str(REPO / 'tools' / 'search.py'),
                    str(config), str(checkpoint), *WIDE, *FAST, '--work-dir', str(tmp_path),
                    '--launcher', 'pytorch'], check=True, cwd=tmp_path, capture_output=True)
    assert candidates(tmp_path) == candidates(reference[0])


def test_bad_input(saa, tmp_path):
    config, checkpoint = saa
    search = tool('search')
    with pytest.raises(SystemExit):  # argparse: min above max
        search.main([str(config), str(checkpoint), '--latency-min', '9', '--latency-max', '1'])
    with pytest.raises(LatencyBandError, match='no configuration can meet the latency band'):
        search.main([str(config), str(checkpoint), '--latency-min', '0', '--latency-max',
                     '0.0001', *FAST, '--work-dir', str(tmp_path / 'band')])
    assert not (tmp_path / 'band').exists()  # refused before it started: nothing left behind
    forget_visualizers()  # the next run's runner would write into the removed folder
    with pytest.raises(MetricNotFound, match="no metric 'coco/nope'"):
        search.main([str(config), str(checkpoint), *WIDE, *FAST, '--metric', 'coco/nope',
                     '--work-dir', str(tmp_path / 'metric')])
    assert not (tmp_path / 'metric').exists()
    forget_visualizers()
    dense = torch.load(checkpoint)
    dense['meta']['cfg'] = dense['meta']['cfg'].replace('SparsityAdaptationHook', 'Other')
    torch.save(dense, tmp_path / 'dense.pth')
    (tmp_path / 'dense').mkdir()
    (tmp_path / 'dense' / 'notes.txt').write_text('mine')
    with pytest.raises(NotSAACheckpoint, match='not trained with sparsity-aware adaptation'):
        search.main([str(config), str(tmp_path / 'dense.pth'), *WIDE, *FAST,
                     '--work-dir', str(tmp_path / 'dense')])
    assert [p.name for p in (tmp_path / 'dense').iterdir()] == ['notes.txt']  # as it was
    forget_visualizers()
    state = torch.load(checkpoint)
    state['state_dict'].pop('neck.fpn_convs.0.conv.weight')
    torch.save(state, tmp_path / 'other.pth')
    with pytest.raises(CheckpointMismatch, match=r'(?s)not a checkpoint of the model of this '
                       r'config.*neck.fpn_convs.0.conv.weight'):
        search.main([str(config), str(tmp_path / 'other.pth'), *WIDE, *FAST,
                     '--work-dir', str(tmp_path / 'other')])
    forget_visualizers()
    truncated = tmp_path / 'truncated.pth'
    truncated.write_bytes(checkpoint.read_bytes()[:1000])
    with pytest.raises(CheckpointError, match=f'{truncated} is not a readable checkpoint'):
        search.main([str(config), str(truncated), *WIDE, *FAST,
                     '--work-dir', str(tmp_path / 'truncated')])
    assert not (tmp_path / 'truncated').exists()
    done = subprocess.run([sys.executable, str(REPO / 'tools' / 'search.py'), str(config),
                           str(truncated), *WIDE, *FAST, '--work-dir', str(tmp_path / 'cli')],
                          capture_output=True, text=True)
    assert done.returncode == 1 and 'Traceback' not in done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        f'error: {truncated} is not a readable checkpoint: the file ends too early (truncated?)')
