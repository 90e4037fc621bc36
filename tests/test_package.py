"""What ``import sparsevit`` (``custom_imports``) registers, and what it leaves unimported."""
import json
import subprocess
import sys

import numpy as np
import torch

import sparsevit

PROBE = '''
import json, sys
import sparsevit
from mmengine.fileio.backends import backends
from mmengine.registry import HOOKS, MODELS
print(json.dumps(dict(
    modules=sorted(name for name in sys.modules if name.startswith('sparsevit')),
    models=[name for name in ('SparseSwinTransformer',) if MODELS.get(name)],
    hooks=[name for name in ('SparsityAdaptationHook', 'DataFilesCheckHook') if HOOKS.get(name)],
    backends=sorted(backends))))
'''


# what the import's own code changes in the process, taken after importing everything the
# package imports (torch, mmengine, mmcv, mmdet register their own entries when first imported)
EFFECTS = '''
import importlib, json, sys
for name in json.loads(sys.argv[1]):
    importlib.import_module(name)
import mmengine.registry
import torch
from mmengine.fileio.backends import backends, prefix_to_backends
from mmengine.runner import CheckpointLoader


def name(obj):
    return f'{getattr(obj, "__module__", "?")}.{getattr(obj, "__qualname__", repr(obj))}'


def named(mapping):
    return {key: name(value) for key, value in mapping.items()}


def state():
    safe = getattr(torch.serialization, 'get_safe_globals', list)()
    registries = {key: value for key, value in vars(mmengine.registry).items()
                  if isinstance(value, mmengine.registry.Registry)}
    return dict(
        checkpoint_loaders=named(CheckpointLoader._schemes),
        file_backends=named(backends), backend_prefixes=named(prefix_to_backends),
        registries={key: named(r.module_dict) for key, r in registries.items()},
        safe_globals={e[1] if isinstance(e, tuple) else name(e): name(e[0] if isinstance(e, tuple)
                      else e) for e in safe})


before = state()
import sparsevit
print(json.dumps(dict(before=before, after=state())))
'''
# the effects the package README lists ("What importing the package changes")
REGISTERED = dict(MODELS=['SparseSwinTransformer'],
                  HOOKS=['DataFilesCheckHook', 'SparsityAdaptationHook'])
# numpy's array and dtype, and the dtype classes of its bool, integer, float and complex types
NUMPY_TYPES = ['numpy.ndarray', 'numpy.dtype'] + [
    f'{kind.__module__}.{kind.__qualname__}' for kind in {
        type(np.dtype(c)) for c in '?' + np.typecodes['AllInteger'] + np.typecodes['AllFloat']}]
NUMPY_FUNCTIONS = [f'numpy.{core}.multiarray.{function}' for core in ('core', '_core')
                   for function in ('_reconstruct', 'scalar')]


def import_in_fresh_process() -> dict:
    out = subprocess.run([sys.executable, '-c', PROBE], capture_output=True, text=True,
                         check=True).stdout
    return json.loads(out.splitlines()[-1])


def modules_the_package_imports() -> list:
    """The other modules ``import sparsevit`` imports, in order (aliases left out)."""
    listing = ('import sys; before = set(sys.modules); import sparsevit; '
               'print(*[name for name, module in sys.modules.items() if name not in before and '
               'getattr(getattr(module, "__spec__", None), "name", None) == name], sep="\\n")')
    out = subprocess.run([sys.executable, '-c', listing], capture_output=True, text=True,
                         check=True).stdout
    return [name for name in out.split() if name.split('.')[0] != 'sparsevit']


def test_import_registers_everything_and_imports_no_demo_or_task_code():
    state = import_in_fresh_process()
    assert state['models'] == ['SparseSwinTransformer']
    assert state['hooks'] == ['SparsityAdaptationHook', 'DataFilesCheckHook']
    assert 'atomic_local' in state['backends']  # the configs save checkpoints through it
    loaded = state['modules']
    for package in ('sparsevit.demo', 'sparsevit.bevdet', 'sparsevit.search'):  # on demand
        assert not [m for m in loaded if m == package or m.startswith(package + '.')]


def test_package_exports():
    assert sparsevit.__all__ and all(hasattr(sparsevit, name) for name in sparsevit.__all__)
    assert sparsevit.__version__ == '0.1.0'


def added_entries(before: dict, after: dict) -> dict:
    """What ``after`` adds to ``before``; fails if it drops or replaces an entry."""
    added = {key: value for key, value in after.items() if key not in before}
    assert after == dict(before, **added)
    return added


def test_import_changes_only_what_the_readme_lists():
    """New registry names and torch's allow-list; nothing replaced, no loader swapped."""
    modules = json.dumps(modules_the_package_imports())
    run = subprocess.run([sys.executable, '-c', EFFECTS, modules], capture_output=True, text=True,
                         check=True)
    changes = json.loads(run.stdout.splitlines()[-1])
    before, after = changes['before'], changes['after']
    assert after['checkpoint_loaders'] == before['checkpoint_loaders']  # mmengine's own loader
    assert after['backend_prefixes'] == before['backend_prefixes']
    assert added_entries(before['file_backends'], after['file_backends']) == dict(
        atomic_local='sparsevit.fileio.AtomicLocalBackend')
    for registry, entries in after['registries'].items():
        added = added_entries(before['registries'][registry], entries)
        assert sorted(added) == REGISTERED.get(registry, []), registry
        assert all(value.startswith('sparsevit.') for value in added.values())
    allowed = added_entries(before['safe_globals'], after['safe_globals'])
    if not hasattr(torch.serialization, 'add_safe_globals'):
        assert not allowed  # torch < 2.4: no allow-list, nothing to add
        return
    assert sorted(allowed) == sorted(['mmengine.logging.history_buffer.HistoryBuffer',
                                      'builtins.getattr', *NUMPY_TYPES, *NUMPY_FUNCTIONS])
    assert allowed['builtins.getattr'] == 'sparsevit.safe_checkpoint.history_buffer_method'
