"""Files written so that a killed process never leaves a half-written one behind.

Also the ``atomic_local`` file backend of mmengine (registered on import), through
which the configs save checkpoints.
"""
import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Callable, Iterator, Union

import torch
from mmengine.fileio import LocalBackend, register_backend

if TYPE_CHECKING:
    from matplotlib.figure import Figure


@contextmanager
def atomic_open(path: Union[str, Path], mode: str = 'w') -> Iterator[IO]:
    """Open a temporary file beside ``path``; on success it replaces ``path`` in one step."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f'.{path.name}.', suffix='.tmp')
    try:
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def atomic_write_text(path: Union[str, Path], text: str) -> None:
    with atomic_open(path) as f:
        f.write(text)


def dump_json(obj: Any, path: Union[str, Path]) -> None:
    """Atomically write ``obj`` as indented JSON."""
    atomic_write_text(path, json.dumps(obj, indent=2) + '\n')


@contextmanager
def undo_new_entries_on_error(folder: Union[str, Path],
                              keep: Callable[[], bool] = lambda: False) -> Iterator[None]:
    """Leave ``folder`` as it was if the block raises: remove what the block added to it.

    ``keep()``, asked after the error, can keep the additions (a run that got far
    enough to leave something worth resuming).
    """
    folder = Path(folder)
    existed = folder.is_dir()
    before = set(folder.iterdir()) if existed else set()
    try:
        yield
    except BaseException:
        if not keep():
            added = set(folder.iterdir()) - before if existed else {folder}
            for path in added:
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    path.unlink(missing_ok=True)
        raise


def save_figure(figure: 'Figure', path: Union[str, Path]) -> None:
    """Render a matplotlib ``Figure`` to PNG through its own Agg canvas, atomically.

    The global matplotlib backend (and pyplot) are left alone.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    with atomic_open(path, 'wb') as f:
        FigureCanvasAgg(figure).print_png(f)


def atomic_torch_save(obj: Any, path: Union[str, Path]) -> None:
    """``torch.save`` that never leaves a truncated checkpoint at ``path``."""
    with atomic_open(path, 'wb') as f:
        torch.save(obj, f)


@register_backend('atomic_local')
class AtomicLocalBackend(LocalBackend):
    """mmengine's local file backend, writing every file atomically.

    Use it for checkpoints with
    ``default_hooks = dict(checkpoint=dict(backend_args=dict(backend='atomic_local')))``:
    a run killed while saving keeps its previous checkpoints intact.
    """

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        with atomic_open(filepath, 'wb') as f:
            f.write(obj)

    def put_text(self, obj: str, filepath: Union[str, Path], encoding: str = 'utf-8') -> None:
        with atomic_open(filepath, 'w') as f:
            f.write(obj)
