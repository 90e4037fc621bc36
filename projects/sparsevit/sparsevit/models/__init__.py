from .backbones import SparseSwinTransformer

__all__ = ['SparseSwinTransformer']
