from .io import atomic_write_text, dump_json

__all__ = ['atomic_write_text', 'dump_json']
