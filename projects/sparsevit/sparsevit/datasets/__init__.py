"""Synthetic COCO- and Cityscapes-format demo datasets and checks of data files."""
from .checks import check_coco_files, check_dataset_files, missing_files
from .synthetic_cityscapes import generate_cityscapes
from .synthetic_coco import DEMO_CLASSES, DEMO_PALETTE, generate_coco

__all__ = [
    'DEMO_CLASSES', 'DEMO_PALETTE', 'check_coco_files', 'check_dataset_files', 'generate_cityscapes',
    'generate_coco', 'missing_files'
]
