"""Inference for users: a model at a chosen sparsity, run on images or camera samples."""
from .inference import (SampleIndexError, dataset_batch, dataset_sample, inference, init_model,
                        prepare_sample)
from .search_results import select_from_search

__all__ = [
    'SampleIndexError', 'dataset_batch', 'dataset_sample', 'inference', 'init_model',
    'prepare_sample', 'select_from_search'
]
