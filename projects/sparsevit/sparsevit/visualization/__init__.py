from .windows import draw_windows, record_windows, visualize_windows

__all__ = ['draw_windows', 'record_windows', 'visualize_windows']
