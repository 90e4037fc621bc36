"""Semantic segmentation with the sparse Swin-T, end to end on generated Cityscapes data (CPU).

UperNet: SAA training through tools/train.py, checkpoint, test with a fixed
configuration through tools/test.py (the real CityscapesDataset and IoUMetric),
the search with mIoU as fitness, mim. Mask2Former: build, one training
iteration, one test.
"""
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch.multiprocessing as mp
from PIL import Image

from sparsevit.demo.synthetic_cityscapes import generate_cityscapes
from sparsevit.presets import REFERENCE_CONFIGS

from ..helpers import free_port
from ..helpers import load_tool as tool
from .helpers import (cityscapes_demo_config, distributed_worker, mim_train_and_test, read_record,
                      recorded_saa_hooks)

UPERNET_SAA = 'upernet/upernet_sparse-swin-t-p4-w7_4xb2-saa-30k_cityscapes-512x1024.py'
MASK2FORMER = 'mask2former/mask2former_sparse-swin-t_8xb2-90k_cityscapes-512x1024.py'
SEARCHED = REFERENCE_CONFIGS['searched-0.6']
pytestmark = pytest.mark.slow


@pytest.fixture(scope='module')
def cityscapes(tmp_path_factory):
    root = tmp_path_factory.mktemp('cityscapes')
    generate_cityscapes(root, num_train=6, num_val=2, image_size=(128, 256), seed=0)
    return root


@pytest.fixture(scope='module')
def upernet_saa(cityscapes, tmp_path_factory):
    """An SAA-trained UperNet checkpoint, its config and the recorded sparsity per iteration."""
    root = tmp_path_factory.mktemp('upernet')
    config = cityscapes_demo_config(root / 'saa.py', UPERNET_SAA, cityscapes, 3,
                                    recorded_saa_hooks(root / 'record', seed=5))
    tool('train').main([str(config), '--work-dir', str(root / 'work')])
    record = read_record(root / 'record')
    return config, root / 'work' / 'iter_3.pth', record


@pytest.mark.all_stacks
def test_saa_training_samples_a_configuration_per_iteration(upernet_saa):
    _, checkpoint, record = upernet_saa
    assert checkpoint.is_file()
    assert [it for it, _ in record['train']] == [0, 1, 2]
    assert len({json.dumps(c) for _, c in record['train']}) > 1


@pytest.mark.all_stacks
def test_test_with_a_fixed_configuration_reports_miou(upernet_saa, tmp_path):
    config, checkpoint, _ = upernet_saa
    metrics = tool('test').main([str(config), str(checkpoint), '--work-dir', str(tmp_path),
                                 '--sparsity', json.dumps(SEARCHED)])
    assert set(metrics) >= {'aAcc', 'mIoU', 'mAcc'}
    assert 0.0 <= metrics['mIoU'] <= 100.0
    tested = read_record(config.parent / 'record')['test']
    assert tested == [SEARCHED] * 2  # 2 val images, batch 1


def test_search_with_miou_as_fitness(upernet_saa, tmp_path):
    config, checkpoint, _ = upernet_saa
    files = tool('search').main([
        str(config), str(checkpoint), '--latency-min', '0', '--latency-max', '100000',
        '--work-dir', str(tmp_path), '--population', '3', '--parents', '2', '--budget', '4',
        '--latency-shape', '128', '256', '--latency-warmup', '1', '--latency-runs', '2'])
    best = json.loads(Path(files['best.json']).read_text())
    assert best['metric_key'] == 'mIoU' and 0.0 <= best['metric'] <= 100.0
    records = [json.loads(line) for line in
               (tmp_path / 'search_log.jsonl').read_text().splitlines()[1:]]
    assert sum(r['type'] == 'candidate' for r in records) >= 3
    finetune = Path(files['config']).read_text()
    assert json.dumps(best['sparsity']) in finetune.replace("'", '"')


def test_mim_train_and_test_mmseg(cityscapes, tmp_path):
    config = cityscapes_demo_config(tmp_path / 'mim.py', UPERNET_SAA, cityscapes, max_iters=2)
    trained, tested = mim_train_and_test('mmseg', config, tmp_path / 'work', 'iter_2.pth')
    assert 'training sparsity' in trained  # the plugin's SAA hook ran
    assert 'mIoU' in tested


def test_mask2former_trains_one_iteration_and_tests(cityscapes, tmp_path):
    config = cityscapes_demo_config(tmp_path / 'm2f.py', MASK2FORMER, cityscapes, max_iters=1,
                                    extra="default_hooks = dict(checkpoint=dict(interval=1))")
    tool('train').main([str(config), '--work-dir', str(tmp_path / 'work')])
    metrics = tool('test').main([str(config), str(tmp_path / 'work' / 'iter_1.pth'),
                                 '--work-dir', str(tmp_path / 'work'),
                                 '--sparsity', json.dumps(SEARCHED)])
    assert 0.0 <= metrics['mIoU'] <= 100.0


def test_missing_label_maps_stop_training_before_it_starts(cityscapes, tmp_path):
    broken = tmp_path / 'cityscapes'
    shutil.copytree(cityscapes, broken)
    victim = sorted((broken / 'gtFine' / 'train').rglob('*_gtFine_labelTrainIds.png'))[1]
    victim.unlink()
    config = cityscapes_demo_config(tmp_path / 'broken.py', UPERNET_SAA, broken, max_iters=2)
    with pytest.raises(FileNotFoundError, match=rf'CityscapesDataset: 1 files listed by .* are '
                       rf'missing: .*{victim.name}'):
        tool('train').main([str(config), '--work-dir', str(tmp_path / 'work')])
    assert not list((tmp_path / 'work').glob('*.pth'))


def test_two_processes_train_upernet_with_the_same_configuration(cityscapes, tmp_path):
    """torchrun-style gloo run: SyncBN trains as BN on CPU, the ranks agree on the sparsity."""
    config = cityscapes_demo_config(tmp_path / 'ddp.py', UPERNET_SAA, cityscapes, max_iters=2)
    mp.spawn(distributed_worker, args=(2, str(config), str(tmp_path / 'work'), free_port(),
                                       str(tmp_path / 'ddp')), nprocs=2, join=True)
    rank0 = read_record(tmp_path / 'ddp')['train']
    rank1 = read_record(tmp_path / 'ddp', rank=1)['train']
    assert [it for it, _ in rank0] == [0, 1] and rank0 == rank1


def test_visualize_windows_of_a_segmentor(upernet_saa, cityscapes, tmp_path):
    config, checkpoint, _ = upernet_saa
    image = sorted((cityscapes / 'leftImg8bit' / 'val').rglob('*.png'))[0]
    out = tool('analysis/visualize_windows').main([
        str(config), str(checkpoint), str(image), '--sparsity', json.dumps(SEARCHED),
        '--out', str(tmp_path / 'windows.png')])
    assert Path(out).read_bytes()[:4] == b'\x89PNG'


def test_out_writes_prediction_maps_as_png(upernet_saa, tmp_path):
    config, checkpoint, _ = upernet_saa
    out = tmp_path / 'maps'
    tool('test').main([str(config), str(checkpoint), '--work-dir', str(tmp_path), '--out',
                       str(out)])
    maps = sorted(out.glob('*.png'))
    assert len(maps) == 2  # one per validation image, named after it
    for path in maps:
        labels = np.asarray(Image.open(path))
        assert labels.shape == (128, 256) and labels.dtype == np.uint8 and labels.max() < 19
        logits_bytes = 19 * 128 * 256 * 4  # what dumping the float logits would take
        assert path.stat().st_size < 0.05 * logits_bytes


def test_show_dir_saves_a_picture_per_image(upernet_saa, tmp_path):
    config, checkpoint, _ = upernet_saa
    tool('test').main([str(config), str(checkpoint), '--work-dir', str(tmp_path / 'work'),
                       '--show-dir', str(tmp_path / 'pictures')])
    assert len(list((tmp_path / 'pictures').rglob('*.png'))) == 2


SMALL_TTA = '''
tta_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='TestTimeAug', transforms=[
        [dict(type='Resize', scale_factor=r, keep_ratio=True) for r in (0.5, 1.0)],
        [dict(type='RandomFlip', prob=0.0, direction='horizontal'),
         dict(type='RandomFlip', prob=1.0, direction='horizontal')],
        [dict(type='LoadAnnotations')], [dict(type='PackSegInputs')]])]
'''


def test_tta_of_the_config(upernet_saa, cityscapes, tmp_path):
    _, checkpoint, _ = upernet_saa
    config = cityscapes_demo_config(tmp_path / 'tta.py', UPERNET_SAA, cityscapes, 3,
                                    extra=SMALL_TTA)
    metrics = tool('test').main([str(config), str(checkpoint), '--work-dir', str(tmp_path),
                                 '--tta', '--sparsity', json.dumps(SEARCHED)])
    assert 0.0 <= metrics['mIoU'] <= 100.0
