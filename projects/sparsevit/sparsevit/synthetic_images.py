"""Synthetic images of textured objects on smooth clutter: the pictures of the demo's COCO
dataset, and real-looking input for checks of the backbone (e.g. an ONNX export).

As in natural images, the objects carry the detail. Each image has a smooth
background (a colour gradient with a few large, blurred, low-contrast blobs as
clutter) and one to five non-overlapping objects of three classes, each with its own
outline, colour and fine texture (a checkerboard, rings or stripes a few pixels
apart); some objects are smaller than a stage-0 window of Swin (28 pixels).
Changing what these functions draw for a given seed changes the demo's files: raise
``sparsevit.demo.synthetic_coco.GENERATOR_VERSION`` with it.
"""
from typing import List, Tuple

import cv2
import numpy as np

DEMO_CLASSES = ('square', 'disk', 'triangle')
DEMO_PALETTE = ((220, 40, 40), (40, 190, 60), (50, 80, 230))  # RGB, one per class
DISK_VERTICES = 28
MAX_OBJECTS = 5
SIZE_RANGE = (0.08, 0.3)  # object side as a fraction of the shorter image side
TEXTURE_PERIOD = 6.0  # pixels per cycle of an object's texture
TEXTURE_CONTRAST = 45.0  # amplitude of the texture around the class colour
CLUTTER_BLOBS = (3, 7)  # blurred blobs per background
MIN_GAP = 2.0  # pixels between the boxes of two objects


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


def place_objects(rng: np.random.Generator, height: int,
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


def render_objects(rng: np.random.Generator, height: int, width: int,
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
    return render_objects(rng, height, width, place_objects(rng, height, width))
