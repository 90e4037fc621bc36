"""A small, learnable Cityscapes-format street-scene dataset drawn from scratch.

Each image is a simplified street: sky above a skyline of buildings with trees,
a road with cars narrowing to the horizon, sidewalks with people, and the ego
vehicle's bonnet at the bottom (ignored, as in Cityscapes). Every class has its
own colour and texture. The files follow the layout of the real dataset, which
mmseg's ``CityscapesDataset`` reads::

    root/leftImg8bit/{train,val}/<city>/<city>_<seq>_<frame>_leftImg8bit.png
    root/gtFine/{train,val}/<city>/<city>_<seq>_<frame>_gtFine_labelTrainIds.png
    root/gtFine/{train,val}/<city>/<city>_<seq>_<frame>_gtFine_labelIds.png

``labelTrainIds`` holds the 19 training ids (255 = ignore), ``labelIds`` the
full Cityscapes label ids, as written by the official preparation scripts.
"""
from pathlib import Path
from typing import Dict, Tuple, Union

import cv2
import numpy as np

# train id -> (Cityscapes label id, mean RGB colour) of the classes the scenes use
ROAD, SIDEWALK, BUILDING, VEGETATION, SKY, PERSON, CAR = 0, 1, 2, 8, 10, 11, 13
CLASS_STYLE = {
    ROAD: (7, (110, 100, 115)),
    SIDEWALK: (8, (215, 150, 200)),
    BUILDING: (11, (150, 120, 90)),
    VEGETATION: (21, (60, 140, 40)),
    SKY: (23, (110, 170, 235)),
    PERSON: (24, (230, 40, 60)),
    CAR: (26, (30, 30, 180)),
}
IGNORE = 255
EGO_VEHICLE_ID = 1  # Cityscapes label id of the ego vehicle (train id 255)
CITIES = dict(train=('aachen', 'bremen'), val=('frankfurt',))
MIN_SIZE = (32, 64)


def _layout(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """The train-id map of one random street scene."""
    labels = np.full((height, width), SKY, np.uint8)
    horizon = int(height * rng.uniform(0.35, 0.5))
    # skyline: buildings of random widths and heights standing on the horizon
    x = 0
    while x < width:
        w = int(width * rng.uniform(0.08, 0.25))
        top = int(horizon - height * rng.uniform(0.1, 0.3))
        labels[max(top, 0):horizon, x:x + w] = BUILDING
        x += w
    for _ in range(rng.integers(1, 4)):  # trees in front of the buildings
        cx, cy = int(rng.uniform(0, width)), int(horizon - height * rng.uniform(0.05, 0.15))
        axes = (int(width * rng.uniform(0.04, 0.08)), int(height * rng.uniform(0.06, 0.12)))
        cv2.ellipse(labels, (cx, cy), axes, 0, 0, 360, VEGETATION, -1)
    # ground: sidewalks, and a road that narrows towards a vanishing point
    labels[horizon:] = SIDEWALK
    vanish = width * rng.uniform(0.4, 0.6)
    half_bottom = width * rng.uniform(0.3, 0.45)
    road = np.array([[vanish - 2, horizon], [vanish + 2, horizon],
                     [vanish + half_bottom, height], [vanish - half_bottom, height]])
    cv2.fillPoly(labels, [np.round(road).astype(np.int32)], ROAD)
    for _ in range(rng.integers(1, 4)):  # cars on the road, larger when nearer
        depth = rng.uniform(0.2, 0.8)
        y = horizon + depth * (height - horizon)
        w, h = width * 0.25 * depth, height * 0.15 * depth
        x = vanish + rng.uniform(-0.6, 0.6) * half_bottom * depth - w / 2
        cv2.rectangle(labels, (int(x), int(y - h)), (int(x + w), int(y)), CAR, -1)
    for _ in range(rng.integers(0, 4)):  # people on the sidewalks
        depth = rng.uniform(0.2, 0.9)
        y = horizon + depth * (height - horizon)
        side = rng.choice([-1, 1])
        x = vanish + side * half_bottom * depth * rng.uniform(1.2, 1.6)
        axes = (max(int(width * 0.012 * depth), 1), max(int(height * 0.1 * depth), 2))
        cv2.ellipse(labels, (int(x), int(y - axes[1])), axes, 0, 0, 360, PERSON, -1)
    # the ego vehicle's bonnet along the bottom edge
    bonnet = int(height * rng.uniform(0.05, 0.1))
    cv2.ellipse(labels, (width // 2, height), (int(width * 0.6), bonnet), 0, 180, 360,
                IGNORE, -1)
    return labels


def _render(rng: np.random.Generator, labels: np.ndarray) -> np.ndarray:
    """An RGB uint8 image of a label map: per-class colour, coarse shading, fine noise."""
    height, width = labels.shape
    palette = np.zeros((256, 3))
    for train_id, (_, colour) in CLASS_STYLE.items():
        palette[train_id] = np.array(colour) + rng.uniform(-15, 15, size=3)
    palette[IGNORE] = (40, 40, 40)
    cells = (height // 16 + 2, width // 16 + 2)
    shading = cv2.resize(rng.normal(0, 10, size=(*cells, 1)), (width, height),
                         interpolation=cv2.INTER_CUBIC)[..., None]
    image = palette[labels] + shading + rng.normal(0, 6, size=(height, width, 3))
    return np.clip(image, 0, 255).astype(np.uint8)


def _label_ids(train_ids: np.ndarray) -> np.ndarray:
    """The ``labelIds`` map of a ``labelTrainIds`` map (unused train ids map to 0)."""
    lookup = np.zeros(256, np.uint8)
    for train_id, (label_id, _) in CLASS_STYLE.items():
        lookup[train_id] = label_id
    lookup[IGNORE] = EGO_VEHICLE_ID
    return lookup[train_ids]


def _write_png(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), array):
        raise OSError(f'could not write {path}')


def _write_split(root: Path, split: str, count: int, seed: int,
                 image_size: Tuple[int, int]) -> None:
    rng = np.random.default_rng([seed, 0 if split == 'train' else 1])
    cities = CITIES[split]
    for index in range(count):
        city = cities[index % len(cities)]
        stem = f'{city}_{index // len(cities):06d}_{19 + index % 7:06d}'
        labels = _layout(rng, *image_size)
        image = _render(rng, labels)
        _write_png(root / 'leftImg8bit' / split / city / f'{stem}_leftImg8bit.png',
                   image[..., ::-1])
        gt_dir = root / 'gtFine' / split / city
        _write_png(gt_dir / f'{stem}_gtFine_labelTrainIds.png', labels)
        _write_png(gt_dir / f'{stem}_gtFine_labelIds.png', _label_ids(labels))


def generate_cityscapes(root: Union[str, Path], num_train: int = 16, num_val: int = 4,
                        image_size: Tuple[int, int] = (256, 512), seed: int = 0) -> Dict:
    """Write the street-scene dataset under ``root`` and return where it lies.

    Args:
        root: dataset directory (created if needed; files of the same names are
            overwritten).
        num_train: number of training images.
        num_val: number of validation images.
        image_size: (height, width) of every image, at least 32 x 64
            (Cityscapes itself is 1024 x 2048).
        seed: the same seed and arguments give the same files.

    Returns:
        ``root`` and, per split, ``<split>_img_dir`` and ``<split>_seg_map_dir``
        (absolute paths as strings).
    """
    if num_train < 0 or num_val < 0:
        raise ValueError(f'image counts must be >= 0, got num_train={num_train}, '
                         f'num_val={num_val}')
    if len(image_size) != 2 or image_size[0] < MIN_SIZE[0] or image_size[1] < MIN_SIZE[1]:
        raise ValueError(f'image_size must be (height, width) of at least {MIN_SIZE}, '
                         f'got {image_size}')
    root = Path(root).absolute()
    result = dict(root=str(root))
    for split, count in (('train', num_train), ('val', num_val)):
        _write_split(root, split, count, seed, (int(image_size[0]), int(image_size[1])))
        result[f'{split}_img_dir'] = str(root / 'leftImg8bit' / split)
        result[f'{split}_seg_map_dir'] = str(root / 'gtFine' / split)
    return result
