"""How well the kept windows of a sparse detector cover the objects of its images.

The premise of window pruning (docs/method.md, section 2) is that the windows
it keeps hold what matters. On a COCO-format validation set this is measured
as the fraction of ground-truth object pixels that lie inside the kept stage-0
windows (and likewise in every other stage), beside the fraction of windows kept:
pruning that ignores the content covers the objects in proportion to what it keeps.
"""
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence, Union

import cv2
import numpy as np
from pycocotools.coco import COCO
from torch import nn

from ..model_sparsity import sparse_backbones
from .kept_windows import kept_window_ids, record_windows


@dataclass(frozen=True)
class WindowCoverage:
    """Object pixels inside kept windows, and kept windows, summed over images."""
    object_pixels: int
    covered_pixels: int
    windows: int
    kept_windows: int

    @property
    def coverage(self) -> float:
        """Fraction of object pixels inside kept windows."""
        return self.covered_pixels / max(self.object_pixels, 1)

    @property
    def kept_fraction(self) -> float:
        return self.kept_windows / max(self.windows, 1)

    @property
    def ratio(self) -> float:
        """Coverage over kept fraction: 1 for content-blind pruning."""
        return self.coverage / max(self.kept_fraction, 1e-12)

    def to_dict(self) -> dict:
        return dict(coverage=self.coverage, kept_fraction=self.kept_fraction, ratio=self.ratio,
                    object_pixels=self.object_pixels, covered_pixels=self.covered_pixels,
                    windows=self.windows, kept_windows=self.kept_windows)


def kept_pixel_mask(stage_records: list, shape: tuple[int, int], window_pixels: int,
                    image_index: int = 0) -> np.ndarray:
    """``(H, W)`` bool: the input pixels inside the kept windows of one recorded stage."""
    rows, cols = stage_records[0]['rows'], stage_records[0]['cols']
    grid = np.zeros(rows * cols, bool)
    grid[kept_window_ids(stage_records, image_index)] = True
    pixels = np.kron(grid.reshape(rows, cols), np.ones((window_pixels, window_pixels), bool))
    return pixels[:shape[0], :shape[1]]


def object_polygons(coco: COCO, image_id: int, scale: tuple[float, float] = (1.0, 1.0)
                    ) -> list[np.ndarray]:
    """The polygons ``(k, 2)`` of an image's objects, as (x, y) scaled by ``(sx, sy)``."""
    polygons = []
    for ann in coco.loadAnns(coco.getAnnIds(imgIds=[image_id])):
        if isinstance(ann['segmentation'], list):
            polygons += [np.array(p, float).reshape(-1, 2) * scale for p in ann['segmentation']]
    return polygons


def object_coverage(model: nn.Module, ann_file: Union[str, Path], img_dir: Union[str, Path],
                    image_ids: Optional[Sequence[int]] = None) -> list[WindowCoverage]:
    """Per stage, the coverage of the objects of ``ann_file`` by the windows ``model`` keeps.

    Each image goes through the model's test pipeline and backbone under its
    current sparsity; object masks are resized to the image the backbone saw.
    """
    coco = COCO(str(ann_file))
    backbone = sparse_backbones(model)[0]
    stage0_pixels = (backbone.patch_embed.projection.kernel_size[0] *
                     backbone.stages[0].blocks[0].attn.window_size)
    totals = np.zeros((len(backbone.stages), 4), np.int64)
    for image_id in image_ids if image_ids is not None else sorted(coco.getImgIds()):
        info = coco.loadImgs([image_id])[0]
        images, records = record_windows(model, str(Path(img_dir) / info['file_name']))
        shape = images[0].shape[:2]
        objects = np.zeros((info['height'], info['width']), np.uint8)
        for ann in coco.loadAnns(coco.getAnnIds(imgIds=[image_id], iscrowd=False)):
            objects |= coco.annToMask(ann)
        objects = cv2.resize(objects, shape[::-1], interpolation=cv2.INTER_NEAREST).astype(bool)
        for stage, stage_records in enumerate(records):
            kept = kept_pixel_mask(stage_records, shape, stage0_pixels * 2**stage)
            totals[stage] += [objects.sum(), (objects & kept).sum(),
                              stage_records[0]['rows'] * stage_records[0]['cols'],
                              len(kept_window_ids(stage_records))]
    return [WindowCoverage(*map(int, row)) for row in totals]
