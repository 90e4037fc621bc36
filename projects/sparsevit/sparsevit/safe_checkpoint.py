"""Let ``torch.load`` (weights-only, the default since torch 2.6) read mmengine checkpoints.

mmengine 0.10.7 calls ``torch.load`` without ``weights_only``, and the
checkpoints it saves hold more than tensors: numpy arrays and scalars (numeric
and bool), and the message hub's ``HistoryBuffer`` objects, whose state names
its statistics methods as ``getattr(HistoryBuffer, 'mean')``. Instead of turning
the safe loader off, this allows exactly those objects; ``getattr`` in a pickle
is served by a stand-in that returns HistoryBuffer statistics methods and
refuses anything else. Every other object still fails loudly. Why this is done
on import: the package README, "What importing the package changes".
"""
import pickle
from typing import Callable, List, Tuple, Union

import numpy as np
import torch
from mmengine.logging import HistoryBuffer

try:
    from numpy._core import multiarray  # numpy >= 2 (numpy 1.26 has it as an alias)
except ImportError:
    from numpy.core import multiarray

_BUILTIN_STATISTICS = ('min', 'max', 'current', 'mean')
# dtype kinds of the arrays and scalars in mmengine checkpoints: bool, (unsigned) int, float,
# complex; not object, string, void or datetime
_NUMERIC_KINDS = 'biufc'

SafeGlobal = Union[Callable, Tuple[Callable, str]]


def history_buffer_method(owner: object, name: str):
    """``getattr`` for unpickling: only the statistics methods of ``HistoryBuffer``."""
    if owner is HistoryBuffer and (name in _BUILTIN_STATISTICS
                                   or name in HistoryBuffer._statistics_methods):
        return getattr(HistoryBuffer, name)
    raise pickle.UnpicklingError(
        f'refusing getattr({owner!r}, {name!r}) in a checkpoint: only the statistics methods '
        f'of mmengine HistoryBuffer may be looked up while loading')


def _numpy_globals() -> List[SafeGlobal]:
    dtypes = (np.dtype(t) for t in np.sctypeDict.values())
    dtype_classes = dict.fromkeys(type(d) for d in dtypes if d.kind in _NUMERIC_KINDS)
    # numpy 1 pickles these functions from numpy.core, numpy 2 from numpy._core: allow both
    functions = [(function, f'{module}.multiarray.{function.__name__}')
                 for function in (multiarray._reconstruct, multiarray.scalar)
                 for module in ('numpy.core', 'numpy._core')]
    return [np.ndarray, np.dtype, *dtype_classes, *functions]


def mmengine_checkpoint_globals() -> List[SafeGlobal]:
    """What :func:`allow_mmengine_checkpoints` adds to torch's allow-list."""
    return [HistoryBuffer, (history_buffer_method, 'builtins.getattr'), *_numpy_globals()]


def allow_mmengine_checkpoints() -> None:
    """Allow the objects mmengine stores in checkpoints for weights-only loading.

    torch < 2.4 has no allow-list, and before 2.6 ``torch.load`` is not
    weights-only by default, so mmengine reads its checkpoints there as it is.
    """
    if not hasattr(torch.serialization, 'add_safe_globals'):
        return
    torch.serialization.add_safe_globals(mmengine_checkpoint_globals())
