"""SparseViT window activation pruning for OpenMMLab 2.0 (mmdet, mmseg, mmdet3d).

``custom_imports=dict(imports=['sparsevit'])`` imports this package. Everything
it registers is imported below, in one place, into mmengine's root registries,
so the mmdet, mmseg and mmdet3d scopes all build it:

- ``SparseSwinTransformer`` (MODELS), from ``sparsevit.models.backbones``;
- ``SparsityAdaptationHook`` and ``DataFilesCheckHook`` (HOOKS), from
  ``sparsevit.engine.hooks``;
- the ``atomic_local`` file backend that the configs save checkpoints through,
  from ``sparsevit.fileio``.

The BEVDet parts need mmdet3d and register when ``sparsevit.bevdet`` is
imported (the BEVDet configs list it in ``custom_imports``). Importing the
package also lets ``torch.load`` read the checkpoints that mmengine saves
(``sparsevit.safe_checkpoint``). What the import changes in the process, and
why, is in the section "What importing the package changes" of the package
README; nothing else is changed (mmengine's checkpoint loader stays its own).

It first checks that Python, torch, mmcv, mmengine, mmdet and numpy are in the
supported range (``sparsevit.environment``) and stops with one clear error if not.
"""
from .environment import check_environment

check_environment()  # before anything below imports torch, mmcv or mmdet

# isort: split
from .checkpoint_loading import CheckpointError, clear_checkpoint_errors
from .engine.hooks import DataFilesCheckHook, SparsityAdaptationHook
from .fileio import AtomicLocalBackend
from .model_sparsity import (NoSparseBackboneError, get_search_space, get_sparsity, set_sparsity,
                             sparse_backbones)
from .models.backbones import SparseSwinTransformer
from .safe_checkpoint import allow_mmengine_checkpoints
from .search_space import DEFAULT_CHOICES, Gene, SearchSpace
from .sparsity import SparsityError
from .version import __version__

allow_mmengine_checkpoints()  # the one effect on torch: see the docstring

__all__ = [
    'AtomicLocalBackend', 'CheckpointError', 'DEFAULT_CHOICES', 'DataFilesCheckHook', 'Gene',
    'NoSparseBackboneError', 'SearchSpace', 'SparseSwinTransformer', 'SparsityAdaptationHook',
    'SparsityError', '__version__', 'allow_mmengine_checkpoints', 'clear_checkpoint_errors',
    'get_search_space', 'get_sparsity', 'set_sparsity', 'sparse_backbones'
]
