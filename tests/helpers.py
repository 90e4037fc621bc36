"""Helpers shared by the tests: the repository root, tool scripts as modules, a free port."""
import importlib.util
import socket
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[1]


def load_tool(name: str) -> ModuleType:
    """``tools/<name>.py`` as a module, e.g. ``load_tool('analysis/benchmark_latency')``."""
    path = REPO / 'tools' / f'{name}.py'
    spec = importlib.util.spec_from_file_location(Path(name).name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def free_port() -> int:
    """A TCP port on localhost that nothing listens on, for a process group's rendezvous."""
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]
