"""A small, quickly learnable COCO instance-segmentation dataset drawn from scratch.

Made for the premise of window pruning: as in natural images, the objects carry
the detail. The images are those of :mod:`sparsevit.synthetic_images` (textured
objects of three classes on smooth clutter; some smaller than a stage-0 window of
Swin). The files follow the layout that mmdet's ``CocoDataset`` reads::

    root/annotations/instances_{train,val}2017.json
    root/{train,val}2017/<12-digit image id>.jpg
"""
from pathlib import Path
from typing import Tuple, Union

import cv2
import numpy as np
from pycocotools import mask as mask_utils

from ..fileio import dump_json
from ..synthetic_images import DEMO_CLASSES, DEMO_PALETTE, demo_image, place_objects, render_objects

__all__ = [
    'DEMO_CLASSES', 'DEMO_PALETTE', 'GENERATOR_VERSION', 'RECIPE_FILE', 'coco_recipe', 'demo_image',
    'generate_coco'
]

# raised whenever the same arguments draw different files (here or in sparsevit.synthetic_images)
GENERATOR_VERSION = 2
RECIPE_FILE = 'generator.json'  # what drew the files: version and arguments
MIN_SIDE = 32


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
        objects = place_objects(rng, height, width)
        image = render_objects(rng, height, width, objects)
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
        ``num_instances`` (objects per split). ``root/generator.json`` records
        the generator version and the arguments (see :func:`coco_recipe`).
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
    dump_json(coco_recipe(num_train, num_val, image_size, seed), root / RECIPE_FILE)
    return result


def coco_recipe(num_train: int, num_val: int, image_size: Tuple[int, int], seed: int) -> dict:
    """What :func:`generate_coco` records in ``generator.json``: equal recipes, equal files."""
    return dict(version=GENERATOR_VERSION, num_train=num_train, num_val=num_val,
                image_size=list(image_size), seed=seed)
