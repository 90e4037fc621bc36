from ..analysis.kept_windows import kept_window_ids, record_windows
from .windows import draw_windows, visualize_windows

__all__ = ['draw_windows', 'kept_window_ids', 'record_windows', 'visualize_windows']
