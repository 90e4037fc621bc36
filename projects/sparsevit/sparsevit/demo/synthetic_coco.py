"""A small, quickly learnable COCO instance-segmentation dataset drawn from scratch.

Each image has a softly textured grey background and one to four non-overlapping
objects of three classes, each with its own shape and colour. The files follow
the layout that mmdet's ``CocoDataset`` reads::

    root/annotations/instances_{train,val}2017.json
    root/{train,val}2017/<12-digit image id>.jpg
"""
from pathlib import Path
from typing import List, Tuple, Union

import cv2
import numpy as np
from pycocotools import mask as mask_utils

from ..fileio import dump_json

DEMO_CLASSES = ('square', 'disk', 'triangle')
DEMO_PALETTE = ((220, 40, 40), (40, 190, 60), (50, 80, 230))  # RGB, one per class
DISK_VERTICES = 28
MAX_OBJECTS = 4
SIZE_RANGE = (0.15, 0.35)  # object side as a fraction of the shorter image side
MIN_GAP = 2.0  # pixels between the boxes of two objects
MIN_SIDE = 32


def _polygon(label: int, x: float, y: float, size: float) -> np.ndarray:
    """Vertices (k, 2) of class ``label`` inside the square box at (x, y) of side ``size``."""
    if DEMO_CLASSES[label] == 'square':
        return np.array([[x, y], [x + size, y], [x + size, y + size], [x, y + size]])
    if DEMO_CLASSES[label] == 'disk':
        angles = np.linspace(0, 2 * np.pi, DISK_VERTICES, endpoint=False)
        radius = size / 2
        return np.stack([x + radius + radius * np.cos(angles),
                         y + radius + radius * np.sin(angles)], axis=1)
    return np.array([[x + size / 2, y], [x + size, y + size], [x, y + size]])


def _place_objects(rng: np.random.Generator, height: int,
                   width: int) -> List[Tuple[int, np.ndarray]]:
    """1-4 (label, polygon) pairs whose boxes lie inside the image and do not touch."""
    wanted = int(rng.integers(1, MAX_OBJECTS + 1))
    boxes, objects = [], []
    for _ in range(50 * wanted):
        if len(objects) == wanted:
            break
        size = rng.uniform(*SIZE_RANGE) * min(height, width)
        x, y = rng.uniform(0, width - size), rng.uniform(0, height - size)
        if any(x < bx + bs + MIN_GAP and bx < x + size + MIN_GAP and
               y < by + bs + MIN_GAP and by < y + size + MIN_GAP for bx, by, bs in boxes):
            continue
        label = int(rng.integers(len(DEMO_CLASSES)))
        boxes.append((x, y, size))
        objects.append((label, np.round(_polygon(label, x, y, size), 2)))
    return objects


def _render(rng: np.random.Generator, height: int, width: int,
            objects: List[Tuple[int, np.ndarray]]) -> np.ndarray:
    """An RGB uint8 image: blotchy grey background, filled polygons, fine noise."""
    grey = rng.uniform(100, 150) + rng.uniform(-10, 10, size=3)
    cells = (height // 16 + 2, width // 16 + 2)
    blotches = rng.normal(0, 15, size=(*cells, 1)) + rng.normal(0, 4, size=(*cells, 3))
    image = grey + cv2.resize(blotches, (width, height), interpolation=cv2.INTER_CUBIC)
    for label, polygon in objects:
        colour = np.array(DEMO_PALETTE[label]) + rng.uniform(-15, 15, size=3)
        # COCO polygons bound pixel areas, OpenCV's points are pixel centres: shift by half
        points = np.round((polygon - 0.5) * 16).astype(np.int32)
        cv2.fillPoly(image, [points], colour.tolist(), lineType=cv2.LINE_AA, shift=4)
    image += rng.normal(0, 6, size=image.shape)
    return np.clip(image, 0, 255).astype(np.uint8)


def _annotation(polygon: np.ndarray, label: int, height: int, width: int) -> dict:
    """A COCO annotation (without ids) of one polygon."""
    segmentation = [polygon.ravel().tolist()]
    x0, y0 = polygon.min(axis=0)
    x1, y1 = polygon.max(axis=0)
    rle = mask_utils.merge(mask_utils.frPyObjects(segmentation, height, width))
    return dict(category_id=label + 1, segmentation=segmentation,
                bbox=[round(float(v), 2) for v in (x0, y0, x1 - x0, y1 - y0)],
                area=float(mask_utils.area(rle)), iscrowd=0)


def _write_split(root: Path, split: str, image_ids: range, seed: int,
                 image_size: Tuple[int, int]) -> Tuple[Path, int]:
    """Draw and save the images of one split, then its annotation file.

    Returns the annotation file and the number of objects in it.
    """
    height, width = image_size
    rng = np.random.default_rng([seed, 0 if split == 'train' else 1])
    img_dir = root / f'{split}2017'
    img_dir.mkdir(parents=True, exist_ok=True)
    images, annotations = [], []
    for image_id in image_ids:
        file_name = f'{image_id:012d}.jpg'
        objects = _place_objects(rng, height, width)
        image = _render(rng, height, width, objects)
        if not cv2.imwrite(str(img_dir / file_name), image[..., ::-1],
                           [cv2.IMWRITE_JPEG_QUALITY, 95]):
            raise OSError(f'could not write {img_dir / file_name}')
        images.append(dict(id=image_id, file_name=file_name, height=height, width=width))
        for label, polygon in objects:
            annotations.append(dict(id=len(annotations) + 1, image_id=image_id,
                                    **_annotation(polygon, label, height, width)))
    categories = [dict(id=i + 1, name=name, supercategory='shape')
                  for i, name in enumerate(DEMO_CLASSES)]
    ann_file = root / 'annotations' / f'instances_{split}2017.json'
    dump_json(dict(images=images, annotations=annotations, categories=categories), ann_file)
    return ann_file, len(annotations)


def generate_coco(root: Union[str, Path], num_train: int = 32, num_val: int = 8,
                  image_size: Tuple[int, int] = (256, 256), seed: int = 0) -> dict:
    """Write the demo dataset under ``root`` and return where it lies.

    Args:
        root: dataset directory (created if needed; existing files of the same
            names are overwritten).
        num_train: number of training images (ids 1..num_train).
        num_val: number of validation images (ids following the training ones).
        image_size: (height, width) of every image, each at least 32.
        seed: the same seed and arguments give the same files.

    Returns:
        ``root``, ``classes``, ``train_ann_file``, ``train_img_dir``,
        ``val_ann_file``, ``val_img_dir`` (absolute paths as strings) and
        ``num_instances`` (objects per split).
    """
    if num_train < 0 or num_val < 0:
        raise ValueError(f'image counts must be >= 0, got num_train={num_train}, '
                         f'num_val={num_val}')
    if len(image_size) != 2 or min(image_size) < MIN_SIDE:
        raise ValueError(f'image_size must be (height, width), each >= {MIN_SIDE}, '
                         f'got {image_size}')
    root = Path(root).absolute()
    image_size = (int(image_size[0]), int(image_size[1]))
    result = dict(root=str(root), classes=DEMO_CLASSES, num_instances={})
    splits = dict(train=range(1, num_train + 1),
                  val=range(num_train + 1, num_train + num_val + 1))
    for split, image_ids in splits.items():
        ann_file, num_instances = _write_split(root, split, image_ids, seed, image_size)
        result[f'{split}_ann_file'] = str(ann_file)
        result[f'{split}_img_dir'] = str(root / f'{split}2017')
        result['num_instances'][split] = num_instances
    return result
