"""Early, readable errors for missing or mismatched data files of any task's dataset."""
from .file_checks import DataFilesError, check_coco_files, check_dataset_files, missing_files

__all__ = ['DataFilesError', 'check_coco_files', 'check_dataset_files', 'missing_files']
