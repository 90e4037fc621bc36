"""Hooks for mmengine runners: sparsity-aware adaptation and the data-file check."""
from .data_files_check_hook import DataFilesCheckHook
from .sparsity_adaptation_hook import SparsityAdaptationHook

__all__ = ['DataFilesCheckHook', 'SparsityAdaptationHook']
