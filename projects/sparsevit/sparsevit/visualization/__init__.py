from .windows import draw_windows, kept_window_ids, record_windows, visualize_windows

__all__ = ['draw_windows', 'kept_window_ids', 'record_windows', 'visualize_windows']
