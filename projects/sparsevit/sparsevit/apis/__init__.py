"""Inference for users: a model at a chosen sparsity, run on images."""
from .inference import inference, init_model
from .search_results import select_from_search

__all__ = ['inference', 'init_model', 'select_from_search']
