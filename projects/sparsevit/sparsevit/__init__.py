"""SparseViT window activation pruning for OpenMMLab 2.0 (mmdet, mmseg, mmdet3d).

Importing the package (``custom_imports=dict(imports=['sparsevit'])``)
registers its modules in mmengine's root registries, so the mmdet, mmseg and
mmdet3d scopes all build them, and lets ``torch.load`` read the checkpoints
that mmengine saves.
"""
from .api import get_search_space, get_sparsity, set_sparsity, sparse_backbones
from .hooks import DataFilesCheckHook, SparsityAdaptationHook
from .models import SparseSwinTransformer
from .safe_checkpoint import allow_mmengine_checkpoints
from .search_space import DEFAULT_CHOICES, Gene, SearchSpace
from .sparsity import SparsityError

__version__ = '0.1.0'

allow_mmengine_checkpoints()

__all__ = [
    'DEFAULT_CHOICES', 'DataFilesCheckHook', 'Gene', 'SearchSpace', 'SparseSwinTransformer',
    'SparsityAdaptationHook', 'SparsityError', 'allow_mmengine_checkpoints', 'get_search_space',
    'get_sparsity', 'set_sparsity', 'sparse_backbones'
]
