"""Mask R-CNN with the sparse Swin-T, end to end on generated COCO data (CPU).

SAA training through tools/train.py (configurations sampled and applied per
iteration), checkpoint, resume, test with a searched configuration through
tools/test.py with the real CocoMetric, a two-process gloo run, and mim.
"""
import json
import shutil

import mmengine
import pytest
import torch.multiprocessing as mp
from mmengine.visualization import Visualizer

from sparsevit import CheckpointError, SearchSpace, SparsityAdaptationHook
from sparsevit.demo.synthetic_coco import generate_coco
from sparsevit.presets import REFERENCE_CONFIGS

from ..helpers import free_port
from ..helpers import load_tool as tool
from .helpers import (distributed_worker, mask_rcnn_demo_config, mim_train_and_test, read_record,
                      recorded_saa_hooks)

SAA = 'mask-rcnn_sparse-swin-t-p4-w7_fpn_saa-1x_coco.py'
SEARCHED = REFERENCE_CONFIGS['searched-0.6']
pytestmark = pytest.mark.slow


def hook_sequence(seed, iterations):
    """What SparsityAdaptationHook(seed=seed) samples for these iterations of Swin-T."""
    hook = SparsityAdaptationHook(seed=seed)
    hook.space = SearchSpace((2, 2, 6, 2))
    return [hook.sample(i) for i in iterations]


@pytest.fixture(scope='module')
def coco(tmp_path_factory):
    root = tmp_path_factory.mktemp('coco')
    generate_coco(root, num_train=8, num_val=4, image_size=(160, 160), seed=0)
    return root


def saa_config(tmp_path, coco, record, max_iters=4):
    return mask_rcnn_demo_config(tmp_path / f'saa_{max_iters}.py', SAA, coco, max_iters,
                                 recorded_saa_hooks(record, seed=3))


@pytest.mark.all_stacks
def test_saa_train_resume_and_test_with_a_searched_configuration(tmp_path, coco):
    work_dir = tmp_path / 'work'
    record = tmp_path / 'record'
    tool('train').main([str(saa_config(tmp_path, coco, record)), '--work-dir', str(work_dir)])
    first = read_record(record)['train']
    assert [it for it, _ in first] == [0, 1, 2, 3]
    configs = [config for _, config in first]
    assert configs == hook_sequence(3, range(4))  # applied in the iteration they were drawn for
    assert len({json.dumps(c) for c in configs}) > 1  # and they change between iterations
    assert (work_dir / 'iter_4.pth').is_file()

    # resume from the last checkpoint and continue the same sequence of configurations
    tool('train').main([str(saa_config(tmp_path, coco, record, max_iters=6)),
                        '--work-dir', str(work_dir), '--resume'])
    resumed = read_record(record)['train']
    assert [it for it, _ in resumed] == [4, 5]
    assert [c for _, c in resumed] == hook_sequence(3, [4, 5])

    # test the SAA checkpoint at a searched configuration: real COCO bbox and segm metrics
    metrics = tool('test').main([str(saa_config(tmp_path, coco, record)),
                                 str(work_dir / 'iter_6.pth'), '--work-dir', str(work_dir),
                                 '--sparsity', json.dumps(SEARCHED)])
    for key in ('coco/bbox_mAP', 'coco/bbox_mAP_50', 'coco/segm_mAP', 'coco/segm_mAP_50'):
        assert 0.0 <= metrics[key] <= 1.0
    tested = read_record(record)['test']
    assert tested == [SEARCHED] * 4  # 4 val images, batch 1


def test_two_processes_train_the_same_configuration_each_iteration(tmp_path, coco):
    config = mask_rcnn_demo_config(tmp_path / 'ddp.py', SAA, coco, max_iters=3)
    record = tmp_path / 'ddp'
    mp.spawn(distributed_worker, args=(2, str(config), str(tmp_path / 'work'), free_port(),
                                       str(record)), nprocs=2, join=True)
    rank0 = read_record(record)['train']
    rank1 = read_record(record, rank=1)['train']
    assert [it for it, _ in rank0] == [0, 1, 2]
    assert rank0 == rank1  # rank 1's own sampler was seeded differently: the broadcast won
    trained = [c for _, c in rank0]  # rank 0's sequence (seed 1), not rank 1's (seed 7920)
    assert trained == hook_sequence(1, range(3)) != hook_sequence(7920, range(3))


def test_mim_train_and_test(tmp_path, coco):
    config = mask_rcnn_demo_config(tmp_path / 'mim.py', SAA, coco, max_iters=2)
    trained, tested = mim_train_and_test('mmdet', config, tmp_path / 'mim_work', 'iter_2.pth')
    assert 'training sparsity' in trained  # the plugin's SAA hook ran
    assert 'coco/segm_mAP' in tested


def test_missing_images_stop_training_before_it_starts(tmp_path, coco):
    broken = tmp_path / 'coco'
    shutil.copytree(coco, broken)
    victim = sorted((broken / 'train2017').iterdir())[1]
    victim.unlink()
    config = mask_rcnn_demo_config(tmp_path / 'broken.py', SAA, broken, max_iters=2)
    with pytest.raises(FileNotFoundError, match=rf'1 files listed by .*instances_train2017.json '
                       rf'are missing: .*{victim.name}'):
        tool('train').main([str(config), '--work-dir', str(tmp_path / 'work')])
    assert not list((tmp_path / 'work').glob('*.pth'))


@pytest.fixture(scope='module')
def trained(tmp_path_factory, coco):
    """A Mask R-CNN SAA checkpoint after 2 iterations and its config."""
    root = tmp_path_factory.mktemp('trained')
    config = mask_rcnn_demo_config(root / 'saa.py', SAA, coco, max_iters=2)
    tool('train').main([str(config), '--work-dir', str(root / 'work')])
    return config, root / 'work' / 'iter_2.pth'


EVERY_BOX = ['--cfg-options', 'model.test_cfg.rcnn.score_thr=0.0']  # 100 detections an image


def test_out_writes_compact_results(trained, tmp_path):
    config, checkpoint = trained
    out = tmp_path / 'results.pkl'
    tool('test').main([str(config), str(checkpoint), '--work-dir', str(tmp_path), '--out',
                       str(out), *EVERY_BOX])
    results = mmengine.load(out)
    assert len(results) == 4 and not any('gt_instances' in r for r in results)
    masks = [m for r in results for m in r['pred_instances']['masks']]
    assert len(masks) == 400 and all(set(m) == {'size', 'counts'} for m in masks)  # RLE
    raw_bytes = sum(h * w for h, w in (m['size'] for m in masks))  # as uint8 bitmaps
    assert out.stat().st_size < 0.1 * raw_bytes
    with pytest.raises(ValueError, match=r'--out of an mmdet config is a pickle file'):
        tool('test').main([str(config), str(checkpoint), '--work-dir', str(tmp_path), '--out',
                           str(tmp_path / 'x.json')])


def test_show_dir_and_show_draw_every_test_image(trained, tmp_path, monkeypatch):
    config, checkpoint = trained
    shown = []
    monkeypatch.setattr(Visualizer, 'show', lambda self, *args, **kwargs: shown.append(kwargs))
    tool('test').main([str(config), str(checkpoint), '--work-dir', str(tmp_path), '--show',
                       '--show-dir', 'pictures', '--wait-time', '0', *EVERY_BOX])
    pictures = list(tmp_path.glob('*/pictures/*.jpg')) + list(tmp_path.glob('*/pictures/*.png'))
    assert len(pictures) == 4 and len(shown) == 4
    assert all(call['wait_time'] == 0 for call in shown)


def test_tta_and_unreadable_checkpoints_are_refused_clearly(trained, tmp_path):
    config, checkpoint = trained
    with pytest.raises(ValueError, match='the config defines no test-time augmentation'):
        tool('test').main([str(config), str(checkpoint), '--work-dir', str(tmp_path), '--tta'])
    junk = tmp_path / 'notes.pth'
    junk.write_text('not weights\n')
    with pytest.raises(CheckpointError, match=f'{junk} is not a readable checkpoint'):
        tool('test').main([str(config), str(junk), '--work-dir', str(tmp_path)])


def test_whole_model_latency_and_flops(trained, tmp_path):
    config, checkpoint = trained
    timed = tool('analysis/benchmark_latency').main([
        '--whole-model', str(config), str(checkpoint), '--threads', '1', '--warmup', '0',
        '--runs', '2', '--sparsity', 'uniform-0.6', '--out', str(tmp_path / 'latency.json')])
    rows = {row['name']: row for row in timed['results']}
    assert list(rows) == ['dense', 'uniform-0.6'] and rows['dense']['model_ratio'] == 1.0
    assert all(r['model']['mean_ms'] > r['backbone']['mean_ms'] > 0 for r in rows.values())
    assert timed['protocol']['input'] == [1, 3, 160, 160]
    counted = tool('analysis/get_flops').main([str(config), '--checkpoint', str(checkpoint),
                                               '--sparsity', 'uniform-0.6'])
    dense, sparse = counted['results']
    assert sparse['backbone_ratio'] == pytest.approx(rows['uniform-0.6']['ideal_ratio'],
                                                     abs=0.03)
    assert sparse['backbone_ratio'] < sparse['ratio'] < 1.0
    assert counted['parameters'] > 40e6  # Swin-T Mask R-CNN
