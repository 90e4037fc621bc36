"""Demo datasets and checks of data files.

The COCO and Cityscapes generators are exported here; the mmdet3d parts (nuScenes generator,
``NuScenesV2Dataset``, BEVDet transforms) live in submodules that ``sparsevit.models.bevdet``
imports.
"""
from .checks import check_coco_files, check_dataset_files, missing_files
from .synthetic_cityscapes import generate_cityscapes
from .synthetic_coco import DEMO_CLASSES, DEMO_PALETTE, generate_coco

__all__ = [
    'DEMO_CLASSES', 'DEMO_PALETTE', 'check_coco_files', 'check_dataset_files',
    'generate_cityscapes', 'generate_coco', 'missing_files'
]
