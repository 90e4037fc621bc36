"""The supported range is checked at import, with one error naming installed and supported."""
import subprocess
import sys

import pytest

from sparsevit.environment import (SUPPORTED, UnsupportedEnvironmentError, check_environment,
                                   installed_versions, is_supported, version_tuple)

SUPPORTED_STACK = dict(python='3.10.13', torch='2.1.2+cu121', mmcv='2.1.0', mmengine='0.10.7',
                       mmdet='3.3.0', numpy='1.26.4')


def test_version_tuples():
    assert version_tuple('2.1.2+cu121') == (2, 1, 2)
    assert version_tuple('2.0.0rc4') == (2, 0, 0)
    assert version_tuple('2.15.0.dev20261101') == (2, 15, 0)
    with pytest.raises(ValueError, match='not a version'):
        version_tuple('unknown')


def test_range_bounds():
    assert is_supported('torch', '2.0.0') and is_supported('torch', '2.14.1+cu130')
    assert not is_supported('torch', '1.13.1') and not is_supported('torch', '2.15.0')
    assert is_supported('mmcv', '2.1.0') and not is_supported('mmcv', '2.2.0')
    assert is_supported('numpy', '2.1.3') and not is_supported('numpy', '1.21.6')
    assert is_supported('python', '3.9.18') and not is_supported('python', '3.13.0')


def test_this_environment_and_the_classic_stack_are_supported():
    assert set(installed_versions()) == set(SUPPORTED)
    check_environment()
    check_environment(SUPPORTED_STACK)


def test_every_problem_is_named_with_installed_and_supported_versions():
    versions = dict(SUPPORTED_STACK, torch='1.13.1', mmcv=None, python='3.8.18')
    with pytest.raises(UnsupportedEnvironmentError) as error:
        check_environment(versions)
    message = str(error.value)
    assert message.startswith('sparsevit 0.1.0 cannot run in this environment: ')
    assert 'python 3.8.18 is installed (supported: >=3.9, <3.13)' in message
    assert 'torch 1.13.1 is installed (supported: >=2.0, <2.15)' in message
    assert 'mmcv is not installed (supported: >=2.0.0rc4, <2.2.0)' in message
    assert 'numpy' not in message and 'mmdet ' not in message


FAKE_TORCH = '''
import importlib.metadata as metadata
real = metadata.version
metadata.version = lambda name: '1.13.1' if name == 'torch' else real(name)
try:
    import sparsevit
except ImportError:
    import sys
    print(sorted(name for name in ('torch', 'mmcv', 'mmdet') if name in sys.modules))
    raise
'''


def test_import_stops_with_the_error_before_touching_the_libraries():
    result = subprocess.run([sys.executable, '-c', FAKE_TORCH], capture_output=True, text=True)
    assert result.returncode != 0 and result.stdout.strip() == '[]'
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith('sparsevit.environment.UnsupportedEnvironmentError: sparsevit 0.1.0 '
                           'cannot run in this environment: torch 1.13.1 is installed')
