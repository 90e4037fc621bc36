"""A small, quickly learnable COCO instance-segmentation dataset drawn from scratch.

Made for the premise of window pruning: as in natural images, the objects carry
the detail. Each image has a smooth background (a colour gradient with a few
large, blurred, low-contrast blobs as clutter) and one to five non-overlapping
objects of three classes, each with its own outline, colour and fine texture
(a checkerboard, rings or stripes a few pixels apart); some objects are smaller
than a stage-0 window of Swin (28 pixels). The files follow the layout that
mmdet's ``CocoDataset`` reads::

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
MAX_OBJECTS = 5
SIZE_RANGE = (0.08, 0.3)  # object side as a fraction of the shorter image side
TEXTURE_PERIOD = 6.0  # pixels per cycle of an object's texture
TEXTURE_CONTRAST = 45.0  # amplitude of the texture around the class colour
CLUTTER_BLOBS = (3, 7)  # blurred blobs per background
GENERATOR_VERSION = 2  # raised whenever the same arguments draw different files
RECIPE_FILE = 'generator.json'  # what drew the files: version and arguments
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
    """1-5 (label, polygon) pairs whose boxes lie inside the image and do not touch."""
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


def _texture(label: int, height: int, width: int, centre: np.ndarray,
             phase: np.ndarray) -> np.ndarray:
    """``(H, W)`` values in [-1, 1]: checkerboard (square), rings around ``centre`` (disk),
    diagonal stripes (triangle)."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    omega = 2 * np.pi / TEXTURE_PERIOD
    if DEMO_CLASSES[label] == 'square':
        return np.sign(np.sin(omega * (x + phase[0])) * np.sin(omega * (y + phase[1])))
    if DEMO_CLASSES[label] == 'disk':
        return np.sin(omega * np.hypot(x - centre[0], y - centre[1]) + phase[0])
    return np.sign(np.sin(omega * (x + y) / np.sqrt(2) + phase[0]))


def _background(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """Smooth clutter: a colour gradient and a few large blurred blobs of low contrast."""
    base = rng.uniform(90, 150) + rng.uniform(-12, 12, size=3)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    slope = rng.uniform(-25, 25, size=(2, 3))
    image = base + (x / width)[..., None] * slope[0] + (y / height)[..., None] * slope[1]
    blobs = np.zeros((height, width, 3), np.float32)
    side = min(height, width)
    for _ in range(int(rng.integers(*CLUTTER_BLOBS))):
        centre = (int(rng.uniform(0, width)), int(rng.uniform(0, height)))
        axes = (int(rng.uniform(0.1, 0.35) * side), int(rng.uniform(0.1, 0.35) * side))
        cv2.ellipse(blobs, centre, axes, float(rng.uniform(0, 180)), 0, 360,
                    rng.uniform(-25, 25, size=3).tolist(), -1)
    blur = max(3, side // 12) | 1
    return image + cv2.GaussianBlur(blobs, (blur, blur), 0)


def _render(rng: np.random.Generator, height: int, width: int,
            objects: List[Tuple[int, np.ndarray]]) -> np.ndarray:
    """An RGB uint8 image: smooth cluttered background, textured polygons, faint noise."""
    image = _background(rng, height, width)
    for label, polygon in objects:
        colour = np.array(DEMO_PALETTE[label]) + rng.uniform(-15, 15, size=3)
        texture = _texture(label, height, width, polygon.mean(axis=0),
                           rng.uniform(0, 2 * np.pi, size=2))
        # COCO polygons bound pixel areas, OpenCV's points are pixel centres: shift by half
        points = np.round((polygon - 0.5) * 16).astype(np.int32)
        cover = np.zeros((height, width), np.float32)
        cv2.fillPoly(cover, [points], 1.0, lineType=cv2.LINE_AA, shift=4)
        filled = colour + TEXTURE_CONTRAST * texture[..., None]
        image = image * (1 - cover[..., None]) + filled * cover[..., None]
    image += rng.normal(0, 2, size=image.shape)
    return np.clip(image, 0, 255).astype(np.uint8)


def demo_image(seed: int, height: int, width: int) -> np.ndarray:
    """One ``(H, W, 3)`` RGB uint8 image of the demo dataset's kind (textured objects on a
    smooth cluttered background), e.g. a real-looking input for checks."""
    rng = np.random.default_rng(seed)
    return _render(rng, height, width, _place_objects(rng, height, width))


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
