"""Helpers of the tools: options, configs and where they are shipped, CPU distributed runs,
progress."""
from .cli import add_onnx_check_args, add_runner_args, parse_runner_args, run_tool, write_report
from .config import ConfigError, load_config, task_of
from .dist import setup_cpu_distributed
from .package_files import config_path
from .progress import ProgressLine

__all__ = [
    'ConfigError', 'ProgressLine', 'add_onnx_check_args', 'add_runner_args', 'config_path',
    'load_config', 'parse_runner_args', 'run_tool', 'setup_cpu_distributed', 'task_of',
    'write_report'
]
