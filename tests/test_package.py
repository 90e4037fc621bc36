"""What ``import sparsevit`` (``custom_imports``) registers, and what it leaves unimported."""
import json
import subprocess
import sys

import sparsevit

PROBE = '''
import json, sys
import sparsevit
from mmengine.fileio.backends import backends
from mmengine.registry import HOOKS, MODELS
from mmengine.runner import CheckpointLoader
print(json.dumps(dict(
    checkpoint_loader=CheckpointLoader._schemes[''].__module__,
    modules=sorted(name for name in sys.modules if name.startswith('sparsevit')),
    models=[name for name in ('SparseSwinTransformer',) if MODELS.get(name)],
    hooks=[name for name in ('SparsityAdaptationHook', 'DataFilesCheckHook') if HOOKS.get(name)],
    backends=sorted(backends))))
'''


def import_in_fresh_process() -> dict:
    out = subprocess.run([sys.executable, '-c', PROBE], capture_output=True, text=True,
                         check=True).stdout
    return json.loads(out.splitlines()[-1])


def test_import_registers_everything_and_imports_no_demo_or_task_code():
    state = import_in_fresh_process()
    assert state['models'] == ['SparseSwinTransformer']
    assert state['hooks'] == ['SparsityAdaptationHook', 'DataFilesCheckHook']
    assert 'atomic_local' in state['backends']  # the configs save checkpoints through it
    assert state['checkpoint_loader'] == 'sparsevit.checkpoint_loading'  # clear errors
    loaded = state['modules']
    for package in ('sparsevit.demo', 'sparsevit.bevdet', 'sparsevit.search'):  # on demand
        assert not [m for m in loaded if m == package or m.startswith(package + '.')]


def test_package_exports():
    assert sparsevit.__all__ and all(hasattr(sparsevit, name) for name in sparsevit.__all__)
    assert sparsevit.__version__ == '0.1.0'
