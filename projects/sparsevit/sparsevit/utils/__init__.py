from .cli import add_runner_args, parse_runner_args
from .config import load_config
from .dist import setup_cpu_distributed
from .io import AtomicLocalBackend, atomic_open, atomic_torch_save, atomic_write_text, dump_json
from .progress import ProgressLine

__all__ = [
    'AtomicLocalBackend', 'atomic_open', 'atomic_torch_save', 'atomic_write_text', 'dump_json',
    'ProgressLine', 'add_runner_args', 'load_config', 'parse_runner_args', 'setup_cpu_distributed'
]
