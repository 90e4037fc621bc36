"""BEVDet-Tiny (small widths) with the sparse Swin, end to end on generated nuScenes data (CPU).

SAA training through tools/train.py, checkpoint, test with a fixed configuration
through tools/test.py (mmdet3d's NuScenesDataset and the devkit's NuScenesMetric),
and the search with NDS as fitness.
"""
import json
from pathlib import Path

import pytest
from mmengine.visualization import Visualizer

from sparsevit import get_sparsity
from sparsevit.apis import dataset_sample, inference, init_model
from sparsevit.demo.synthetic_nuscenes import generate_nuscenes, write_nuscenes_infos

from ..helpers import load_tool as tool
from .helpers import nuscenes_demo_config, read_record, recorded_saa_hooks

SAA = 'bevdet/bevdet-tiny_sparse-swin-t_8xb8-saa-8e_nus-3d.py'
SEARCHED = [0.6, 0.0, [0.2, 0.4], 0.0]  # the tiny test backbone has depths 2-2-2-2
NDS = 'NuScenes metric/pred_instances_3d_NuScenes/NDS'
MAP = 'NuScenes metric/pred_instances_3d_NuScenes/mAP'
pytestmark = pytest.mark.slow


@pytest.fixture(scope='module')
def bevdet_saa(tmp_path_factory):
    root = tmp_path_factory.mktemp('bevdet')
    generate_nuscenes(root / 'nuscenes', samples_per_scene=2, objects_per_scene=8,
                      image_size=(90, 160))
    write_nuscenes_infos(root / 'nuscenes')
    config = nuscenes_demo_config(root / 'saa.py', SAA, root / 'nuscenes', 3,
                                  recorded_saa_hooks(root / 'record', seed=2))
    tool('train').main([str(config), '--work-dir', str(root / 'work')])
    record = read_record(root / 'record')
    return config, root / 'work' / 'iter_3.pth', record


@pytest.mark.all_stacks
def test_saa_training_samples_a_configuration_per_iteration(bevdet_saa):
    _, checkpoint, record = bevdet_saa
    assert checkpoint.is_file()
    assert [it for it, _ in record['train']] == [0, 1, 2]
    assert len({json.dumps(c) for _, c in record['train']}) > 1


@pytest.mark.all_stacks
def test_test_with_a_fixed_configuration_reports_nds_and_map(bevdet_saa, tmp_path):
    config, checkpoint, _ = bevdet_saa
    metrics = tool('test').main([str(config), str(checkpoint), '--work-dir', str(tmp_path),
                                 '--sparsity', json.dumps(SEARCHED)])
    assert 0.0 <= metrics[NDS] <= 1.0 and 0.0 <= metrics[MAP] <= 1.0
    tested = read_record(config.parent / 'record')['test']
    assert tested == [SEARCHED] * 4  # 2 val scenes x 2 key frames, batch 1


def test_search_with_nds_as_fitness(bevdet_saa, tmp_path):
    config, checkpoint, _ = bevdet_saa
    files = tool('search').main([
        str(config), str(checkpoint), '--latency-min', '0', '--latency-max', '100000',
        '--work-dir', str(tmp_path), '--population', '3', '--parents', '2', '--budget', '4',
        '--latency-batch', '6', '--latency-shape', '64', '176', '--latency-warmup', '1',
        '--latency-runs', '2'])
    best = json.loads(Path(files['best.json']).read_text())
    assert best['metric_key'] == NDS and 0.0 <= best['metric'] <= 1.0


def test_out_writes_nuscenes_results(bevdet_saa, tmp_path):
    config, checkpoint, _ = bevdet_saa
    tool('test').main([str(config), str(checkpoint), '--work-dir', str(tmp_path), '--out',
                       str(tmp_path / 'results')])
    found = list((tmp_path / 'results').rglob('results_nusc.json'))
    assert len(found) == 1
    submission = json.loads(found[0].read_text())
    assert set(submission) == {'meta', 'results'} and len(submission['results']) == 4
    boxes = [box for sample in submission['results'].values() for box in sample]
    assert all({'translation', 'size', 'rotation', 'detection_name'} <= set(b) for b in boxes)
    assert found[0].stat().st_size < 2_000 * max(1, len(boxes))  # JSON boxes, no tensors


def test_show_dir_draws_cameras_and_birds_eye_view(bevdet_saa, tmp_path, monkeypatch):
    config, checkpoint, _ = bevdet_saa
    shown = []
    monkeypatch.setattr(Visualizer, 'show', lambda self, image, **kwargs: shown.append(image))
    tool('test').main([str(config), str(checkpoint), '--work-dir', str(tmp_path), '--show',
                       '--show-dir', 'pictures', '--wait-time', '0',
                       '--cfg-options', 'default_hooks.visualization.score_thr=0.0'])
    pictures = list(tmp_path.glob('*/pictures/*.png'))
    assert len(pictures) == 4 and len(shown) == 4
    assert all(image.ndim == 3 and image.shape[2] == 3 for image in shown)


def test_inference_api_and_windows_of_a_camera_sample(bevdet_saa, tmp_path):
    config, checkpoint, _ = bevdet_saa
    model = init_model(str(config), str(checkpoint), sparsity=SEARCHED)
    sample = dataset_sample(model, 1)
    assert len(sample['images']) == 6
    result = inference(model, sample)
    assert hasattr(result.pred_instances_3d, 'bboxes_3d') and get_sparsity(model) == SEARCHED
    out = tool('analysis/visualize_windows').main([
        str(config), str(checkpoint), '--sample-index', '1', '--out', str(tmp_path / 'w.png'),
        '--sparsity', json.dumps(SEARCHED)])
    assert Path(out).read_bytes()[:4] == b'\x89PNG'
    with pytest.raises(SystemExit):  # a BEVDet config takes a sample index, not an image
        tool('analysis/visualize_windows').main([str(config), str(checkpoint), str(out)])


def test_whole_model_latency(bevdet_saa):
    config, checkpoint, _ = bevdet_saa
    timed = tool('analysis/benchmark_latency').main([
        '--whole-model', str(config), str(checkpoint), '--threads', '1', '--warmup', '0',
        '--runs', '1', '--sparsity', 'uniform-0.6'])
    assert timed['protocol']['input'] == [6, 3, 64, 176]  # one sample: six cameras
    assert all(r['model']['mean_ms'] > r['backbone']['mean_ms'] for r in timed['results'])
