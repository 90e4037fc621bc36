"""The street-scene dataset as mmseg's own CityscapesDataset, pipeline and IoUMetric see it."""
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.datasets import CityscapesDataset
from mmseg.evaluation import IoUMetric
from mmseg.structures import SegDataSample

from sparsevit.demo.synthetic_cityscapes import CLASS_STYLE, IGNORE, generate_cityscapes

TOOL = Path(__file__).parents[2] / 'tools' / 'dataset_converters' / 'generate_demo_cityscapes.py'
SIZE = (64, 160)  # (height, width)
PIPELINE = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
            dict(type='PackSegInputs')]


@pytest.fixture(scope='module')
def demo(tmp_path_factory) -> dict:
    return generate_cityscapes(tmp_path_factory.mktemp('demo_cityscapes'), num_train=4,
                               num_val=3, image_size=SIZE, seed=0)


def dataset(demo: dict, split: str) -> CityscapesDataset:
    init_default_scope('mmseg')
    return CityscapesDataset(data_root=demo['root'], pipeline=PIPELINE, data_prefix=dict(
        img_path=f'leftImg8bit/{split}', seg_map_path=f'gtFine/{split}'))


def test_cityscapes_layout_and_label_files(demo):
    images = sorted(Path(demo['train_img_dir']).rglob('*.png'))
    assert len(images) == 4
    assert {p.parent.name for p in images} == {'aachen', 'bremen'}
    for image in images:
        assert image.name.endswith('_leftImg8bit.png')
        stem = image.name[:-len('_leftImg8bit.png')]
        gt_dir = Path(demo['train_seg_map_dir']) / image.parent.name
        train_ids = cv2.imread(str(gt_dir / f'{stem}_gtFine_labelTrainIds.png'),
                               cv2.IMREAD_UNCHANGED)
        label_ids = cv2.imread(str(gt_dir / f'{stem}_gtFine_labelIds.png'), cv2.IMREAD_UNCHANGED)
        assert train_ids.shape == label_ids.shape == SIZE and train_ids.dtype == np.uint8
        assert set(np.unique(train_ids)) <= set(CLASS_STYLE) | {IGNORE}
        for train_id, (label_id, _) in CLASS_STYLE.items():  # the official id mapping
            assert (label_ids[train_ids == train_id] == label_id).all()
        assert (label_ids[train_ids == IGNORE] == 1).all()  # ego vehicle


def test_real_dataset_and_pipeline_read_it(demo):
    data = dataset(demo, 'val')
    assert len(data) == 3 and data.metainfo['classes'][0] == 'road'
    sample = data[0]
    assert tuple(sample['inputs'].shape) == (3, *SIZE)
    labels = sample['data_samples'].gt_sem_seg.data
    assert tuple(labels.shape) == (1, *SIZE)
    # every image shows road, sidewalk, building and sky, and the ignored bonnet
    assert {0, 1, 2, 10, 255} <= set(labels.unique().tolist())


def test_images_are_learnable_from_colour(demo):
    """A nearest-mean-colour classifier fit on train scores a high mIoU on val (IoUMetric)."""
    train, val = dataset(demo, 'train'), dataset(demo, 'val')
    sums, counts = torch.zeros(19, 3), torch.zeros(19)
    for sample in train:
        image = sample['inputs'].float().flatten(1).T
        labels = sample['data_samples'].gt_sem_seg.data.flatten()
        keep = labels != 255
        sums.index_add_(0, labels[keep].long(), image[keep])
        counts.index_add_(0, labels[keep].long(), torch.ones(int(keep.sum())))
    seen = counts > 0
    means = sums[seen] / counts[seen, None]
    ids = seen.nonzero().flatten()
    metric = IoUMetric(iou_metrics=['mIoU'])
    metric.dataset_meta = val.metainfo
    for sample in val:
        image = sample['inputs'].float().flatten(1).T
        nearest = ids[torch.cdist(image, means).argmin(1)].reshape(SIZE)
        out = SegDataSample(pred_sem_seg=PixelData(data=nearest[None]),
                            gt_sem_seg=sample['data_samples'].gt_sem_seg)
        metric.process([], [out.to_dict()])
    assert metric.evaluate(len(val))['mIoU'] > 50


def test_same_seed_same_files(tmp_path):
    for name in ('a', 'b'):
        generate_cityscapes(tmp_path / name, num_train=1, num_val=1, image_size=SIZE, seed=3)
    for path in (tmp_path / 'a').rglob('*.png'):
        assert path.read_bytes() == (tmp_path / 'b' / path.relative_to(tmp_path / 'a')).read_bytes()


@pytest.mark.parametrize('kwargs, message', [
    (dict(num_train=-1), 'image counts must be >= 0'),
    (dict(image_size=(16, 64)), r'image_size must be \(height, width\) of at least \(32, 64\)'),
])
def test_bad_arguments(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        generate_cityscapes(tmp_path, **kwargs)


def test_command_line_tool(tmp_path):
    result = subprocess.run([sys.executable, str(TOOL), str(tmp_path / 'cs'), '--num-train', '2',
                             '--num-val', '1', '--size', '64', '128'],
                            check=True, capture_output=True, text=True)
    assert 'train: 2 images (64x128)' in result.stdout
    assert 'val: 1 images (64x128)' in result.stdout
