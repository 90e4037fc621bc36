"""Model parts: the sparse Swin backbone and the loading of Swin weights."""
from .backbones import SparseSwinTransformer

__all__ = ['SparseSwinTransformer']
