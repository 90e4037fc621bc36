"""Local checkpoint files with one clear error for a file that is not a readable checkpoint.

mmengine reads every local checkpoint (``load_from``, ``--checkpoint``,
``init_cfg=dict(type='Pretrained')``, ``load_checkpoint``) through the loader
registered for paths without a scheme. Inside :func:`clear_checkpoint_errors`
the one here takes its place: a truncated file, a file of another format, or a
pickle that torch's safe loading refuses stops with :class:`CheckpointError`,
whose message names the file, instead of a PytorchStreamReader or unpickling
traceback. The tools and the package's own loading use it; importing the
package leaves mmengine's loader as it is.
"""
import os.path as osp
import pickle
import re
import zipfile
from contextlib import contextmanager
from typing import Any, Iterator, Optional

import torch
from mmengine.runner import CheckpointLoader

# RuntimeError texts of torch.load that mean the file itself is broken
BROKEN_ARCHIVE = ('PytorchStreamReader', 'zip archive', 'file not found in archive')


class CheckpointError(ValueError):
    """A file given as a checkpoint cannot be read as one."""


def _reason(err: BaseException) -> str:
    """A short account of why torch could not read the file."""
    text = str(err)
    refused = re.search(r'Unsupported global: GLOBAL ([\w.]+)', text)
    if refused:
        return (f'it holds a {refused.group(1)} object, which safe (weights-only) loading '
                f'refuses')
    if isinstance(err, EOFError) or 'central directory' in text or 'Ran out of input' in text:
        return 'the file ends too early (truncated?)'
    unpickler = re.search(r'WeightsUnpickler error:\s*(\S[^\n]*)', text)
    if unpickler or 'invalid load key' in text:
        detail = unpickler.group(1) if unpickler else text
        return f'not a PyTorch file (unpickling failed: {detail.strip()})'
    first = next((line.strip() for line in text.splitlines() if line.strip()), type(err).__name__)
    return first if len(first) <= 160 else first[:157] + '...'


def read_checkpoint(filename: str, map_location: Optional[Any] = None) -> Any:
    """``torch.load`` of a local checkpoint, with :class:`CheckpointError` for unreadable files.

    Raises:
        FileNotFoundError: ``filename`` does not exist.
        CheckpointError: the file is not a checkpoint torch can read.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint {filename} does not exist')
    try:
        return torch.load(filename, map_location=map_location)
    except (pickle.UnpicklingError, EOFError, zipfile.BadZipFile) as err:
        raise CheckpointError(f'{filename} is not a readable checkpoint: {_reason(err)}') from err
    except RuntimeError as err:
        if not any(marker in str(err) for marker in BROKEN_ARCHIVE):
            raise
        raise CheckpointError(f'{filename} is not a readable checkpoint: {_reason(err)}') from err


def register_checkpoint_loader() -> None:
    """Make :func:`read_checkpoint` mmengine's loader of local checkpoint paths, for good.

    An opt-in for a program of one's own; the package itself only swaps the
    loader for a while (:func:`clear_checkpoint_errors`).
    """
    CheckpointLoader.register_scheme(prefixes='', loader=read_checkpoint, force=True)


@contextmanager
def clear_checkpoint_errors() -> Iterator[None]:
    """Within the block, mmengine reads local checkpoints through :func:`read_checkpoint`.

    The loader mmengine had comes back when the block ends, also on an error.
    Usable as a decorator too.
    """
    previous = CheckpointLoader._schemes['']
    register_checkpoint_loader()
    try:
        yield
    finally:
        CheckpointLoader.register_scheme(prefixes='', loader=previous, force=True)
