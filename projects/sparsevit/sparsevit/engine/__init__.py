"""Training-loop parts for mmengine runners."""
from .hooks import DataFilesCheckHook, SparsityAdaptationHook

__all__ = ['DataFilesCheckHook', 'SparsityAdaptationHook']
