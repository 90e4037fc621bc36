from .sparse_swin import SparseSwinTransformer

__all__ = ['SparseSwinTransformer']
