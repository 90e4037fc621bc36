"""The demo dataset as mmdet's own CocoDataset, pipeline and CocoMetric see it."""
import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from mmdet.datasets import CocoDataset
from mmdet.evaluation import CocoMetric
from mmengine.registry import init_default_scope
from pycocotools import mask as mask_utils

from sparsevit.demo.synthetic_coco import DEMO_CLASSES, DEMO_PALETTE, coco_recipe, generate_coco

TOOL = Path(__file__).parents[2] / 'tools' / 'dataset_converters' / 'generate_demo_coco.py'
SIZE = (160, 240)  # (height, width); not square, so a swapped axis shows
PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='PackDetInputs')
]


@pytest.fixture(scope='module')
def demo(tmp_path_factory) -> dict:
    return generate_coco(tmp_path_factory.mktemp('demo_coco'), num_train=6, num_val=4,
                         image_size=SIZE, seed=0)


def coco_dataset(demo: dict, split: str) -> CocoDataset:
    init_default_scope('mmdet')
    return CocoDataset(data_root=demo['root'], ann_file=f'annotations/instances_{split}2017.json',
                       data_prefix=dict(img=f'{split}2017/'), metainfo=dict(classes=DEMO_CLASSES),
                       pipeline=PIPELINE, test_mode=split == 'val')


def load(path: str) -> dict:
    return json.loads(Path(path).read_text())


def test_layout_and_returned_paths(demo):
    root = Path(demo['root'])
    assert demo['classes'] == DEMO_CLASSES == ('square', 'disk', 'triangle')
    for split, count, first_id in (('train', 6, 1), ('val', 4, 7)):
        ann_file = root / 'annotations' / f'instances_{split}2017.json'
        assert demo[f'{split}_ann_file'] == str(ann_file)
        assert demo[f'{split}_img_dir'] == str(root / f'{split}2017')
        coco = load(demo[f'{split}_ann_file'])
        assert [c['name'] for c in coco['categories']] == list(DEMO_CLASSES)
        assert [c['id'] for c in coco['categories']] == [1, 2, 3]
        assert [img['id'] for img in coco['images']] == list(range(first_id, first_id + count))
        assert all(img['height'] == SIZE[0] and img['width'] == SIZE[1] for img in coco['images'])
        on_disk = sorted(p.name for p in Path(demo[f'{split}_img_dir']).iterdir())
        assert on_disk == sorted(img['file_name'] for img in coco['images'])
        assert all(name.endswith('.jpg') for name in on_disk)
        assert (root / f'{split}2017' / on_disk[0]).read_bytes()[:2] == b'\xff\xd8'  # JPEG
        assert demo['num_instances'][split] == len(coco['annotations'])


def test_annotations_are_tight_inside_and_apart(demo):
    coco = load(demo['train_ann_file'])
    height, width = SIZE
    per_image = {img['id']: [] for img in coco['images']}
    for ann in coco['annotations']:
        per_image[ann['image_id']].append(ann)
        assert ann['iscrowd'] == 0 and ann['category_id'] in (1, 2, 3)
        polygon = np.array(ann['segmentation'][0]).reshape(-1, 2)
        assert len(ann['segmentation']) == 1
        if DEMO_CLASSES[ann['category_id'] - 1] == 'disk':
            assert 24 <= len(polygon) <= 32
        x, y, w, h = ann['bbox']
        assert np.allclose([x, y, x + w, y + h], [*polygon.min(0), *polygon.max(0)], atol=0.01)
        assert 0 <= x and 0 <= y and x + w <= width and y + h <= height
        assert 0.08 * min(SIZE) - 0.01 <= max(w, h) <= 0.3 * min(SIZE) + 0.01
        rle = mask_utils.merge(mask_utils.frPyObjects(ann['segmentation'], height, width))
        assert ann['area'] == mask_utils.area(rle) > 0
    assert ann['id'] == len(coco['annotations'])
    for anns in per_image.values():
        assert 1 <= len(anns) <= 5
        boxes = [(x, y, x + w, y + h) for x, y, w, h in (a['bbox'] for a in anns)]
        for i, a in enumerate(boxes):
            for b in boxes[i + 1:]:
                assert a[2] < b[0] or b[2] < a[0] or a[3] < b[1] or b[3] < a[1], (a, b)


def test_mmdet_coco_dataset_and_pipeline(demo):
    dataset = coco_dataset(demo, 'train')
    assert len(dataset) == 6
    assert dataset.metainfo['classes'] == DEMO_CLASSES
    coco = load(demo['train_ann_file'])
    for index in range(len(dataset)):
        item = dataset[index]
        sample = item['data_samples']
        gt = sample.gt_instances
        anns = [a for a in coco['annotations'] if a['image_id'] == sample.img_id]
        assert item['inputs'].shape == (3, *SIZE) and item['inputs'].dtype == torch.uint8
        assert sample.ori_shape == SIZE and sample.img_path.endswith(f'{sample.img_id:012d}.jpg')
        assert gt.labels.tolist() == [a['category_id'] - 1 for a in anns]
        x, y, w, h = np.array([a['bbox'] for a in anns]).T
        assert np.allclose(gt.bboxes.tensor.numpy(), np.stack([x, y, x + w, y + h], 1), atol=0.01)
        masks = gt.masks.to_ndarray().astype(bool)
        assert masks.shape == (len(anns), *SIZE)
        assert masks.sum((1, 2)).tolist() == [a['area'] for a in anns]
        assert not (masks.sum(0) > 1).any()  # objects do not overlap
        # pixels under a mask carry the class colour (inputs are BGR), the background does not
        image = item['inputs'].permute(1, 2, 0).numpy()[..., ::-1].astype(float)
        for mask, label in zip(masks, gt.labels.tolist()):
            if mask.sum() >= 150:  # enough texture cycles for the mean to be the colour
                inside = image[mask].mean(axis=0)
                assert np.abs(inside - DEMO_PALETTE[label]).max() < 40, (inside, label)
        background = image[~masks.any(0)].mean(0)
        assert all(np.abs(background - colour).max() > 60 for colour in DEMO_PALETTE)


def test_objects_carry_the_detail(demo):
    """The premise of window pruning: fine texture on the objects, a smooth background."""
    coco = load(demo['train_ann_file'])
    inside, outside = [], []
    for info in coco['images']:
        grey = cv2.imread(str(Path(demo['train_img_dir']) / info['file_name']),
                          cv2.IMREAD_GRAYSCALE).astype(np.float32)
        detail = np.abs(cv2.Laplacian(grey, cv2.CV_32F))
        objects = np.zeros(grey.shape, np.uint8)
        for ann in coco['annotations']:
            if ann['image_id'] == info['id']:
                rle = mask_utils.frPyObjects(ann['segmentation'], *grey.shape)
                objects |= mask_utils.decode(mask_utils.merge(rle))
        near = cv2.dilate(objects, np.ones((5, 5), np.uint8)).astype(bool)  # edges belong to both
        inside.append(detail[cv2.erode(objects, np.ones((3, 3), np.uint8)).astype(bool)])
        outside.append(detail[~near])
    assert np.concatenate(inside).mean() > 5 * np.concatenate(outside).mean()


def test_records_its_recipe(demo):
    recipe = load(Path(demo['root']) / 'generator.json')
    assert recipe == coco_recipe(6, 4, SIZE, 0) and recipe['version'] >= 2


def evaluate(demo: dict, shift: float = 0.0) -> dict:
    """CocoMetric on the val split, with its ground truth (shifted right) as predictions."""
    dataset = coco_dataset(demo, 'val')
    metric = CocoMetric(ann_file=demo['val_ann_file'], metric=['bbox', 'segm'])
    metric.dataset_meta = dataset.metainfo
    for index in range(len(dataset)):
        sample = dataset[index]['data_samples']
        gt = sample.gt_instances
        bboxes = gt.bboxes.tensor.clone()
        dx = (shift * (bboxes[:, 2] - bboxes[:, 0])).round()
        bboxes[:, 0::2] += dx[:, None]
        masks = torch.stack([mask.roll(int(d), dims=1) for mask, d in
                             zip(gt.masks.to_tensor(torch.bool, 'cpu'), dx)])
        sample.pred_instances = gt.new(bboxes=bboxes, labels=gt.labels, masks=masks,
                                       scores=torch.ones(len(gt)))
        metric.process({}, [sample.to_dict()])
    return metric.evaluate(len(dataset))


def test_coco_metric_scores_ground_truth_perfectly(demo):
    scores = evaluate(demo)
    assert scores['coco/bbox_mAP'] == pytest.approx(1.0)
    assert scores['coco/segm_mAP'] == pytest.approx(1.0)


def test_coco_metric_scores_shifted_boxes_low(demo):
    scores = evaluate(demo, shift=0.4)  # IoU about 0.43 with the ground truth
    assert scores['coco/bbox_mAP'] < 0.1
    assert scores['coco/segm_mAP'] < 0.1


def test_same_seed_same_files(tmp_path):
    kwargs = dict(num_train=2, num_val=1, image_size=(48, 48))
    runs = [generate_coco(tmp_path / name, seed=seed, **kwargs)
            for name, seed in (('a', 3), ('b', 3), ('c', 4))]

    def contents(run):
        files = sorted(Path(run['root']).rglob('*.*'))
        return [(f.relative_to(run['root']), f.read_bytes()) for f in files]

    assert contents(runs[0]) == contents(runs[1])
    assert load(runs[0]['train_ann_file']) != load(runs[2]['train_ann_file'])


def test_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match='num_train=-1'):
        generate_coco(tmp_path, num_train=-1)
    with pytest.raises(ValueError, match='each >= 32'):
        generate_coco(tmp_path, image_size=(16, 64))


def test_command_line_tool(tmp_path):
    root = tmp_path / 'demo'
    done = subprocess.run([sys.executable, str(TOOL), str(root), '--num-train', '2',
                           '--num-val', '1', '--size', '40', '56', '--seed', '5'],
                          capture_output=True, text=True, check=True)
    assert f'train: 2 images (40x56) in {root / "train2017"}' in done.stdout
    assert f'val: 1 images (40x56) in {root / "val2017"}' in done.stdout
    assert 'classes: square, disk, triangle' in done.stdout
    assert len(list((root / 'train2017').glob('*.jpg'))) == 2
    coco = load(root / 'annotations' / 'instances_val2017.json')
    assert [(img['id'], img['height'], img['width']) for img in coco['images']] == [(3, 40, 56)]
    assert coco == load(generate_coco(tmp_path / 'again', 2, 1, (40, 56), seed=5)['val_ann_file'])
