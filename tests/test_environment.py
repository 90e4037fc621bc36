"""Versions are checked at import: a refusal is one error naming each problem; newer only warns."""
import subprocess
import sys
import warnings

import pytest

from sparsevit.environment import (SUPPORTED, UnsupportedEnvironmentError, UntestedVersionWarning,
                                   check_environment, installed_versions, is_refused, is_tested,
                                   version_tuple)

SUPPORTED_STACK = dict(python='3.10.13', torch='2.1.2+cu121', mmcv='2.1.0', mmengine='0.10.7',
                       mmdet='3.3.0', numpy='1.26.4')


def test_version_tuples():
    assert version_tuple('2.1.2+cu121') == (2, 1, 2)
    assert version_tuple('2.0.0rc4') == (2, 0, 0)
    assert version_tuple('2.15.0.dev20261101') == (2, 15, 0)
    with pytest.raises(ValueError, match='not a version'):
        version_tuple('unknown')


def test_range_bounds():
    assert is_tested('torch', '2.0.0') and is_tested('torch', '2.14.1+cu130')
    assert is_refused('torch', '1.13.1') and not is_refused('torch', '2.15.0')
    assert not is_tested('torch', '2.15.0')
    assert is_tested('mmcv', '2.1.0') and is_refused('mmcv', '2.2.0')
    assert is_refused('mmengine', '1.0.0') and not is_refused('mmengine', '0.10.7')
    assert is_tested('numpy', '2.5.2') and is_refused('numpy', '1.21.6')
    assert is_tested('python', '3.9.18') and not is_refused('python', '3.13.0')


def test_this_environment_and_the_classic_stack_are_supported():
    assert set(installed_versions()) == set(SUPPORTED)
    with warnings.catch_warnings():
        warnings.simplefilter('error', UntestedVersionWarning)
        check_environment()
        check_environment(SUPPORTED_STACK)


@pytest.mark.parametrize('name, version', [('torch', '2.15.0'), ('torch', '2.16.0+cu130'),
                                           ('python', '3.13.0'), ('numpy', '3.0.0'),
                                           ('mmdet', '3.4.0')])
def test_a_newer_release_warns_once_naming_it_and_runs(name, version):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        check_environment(dict(SUPPORTED_STACK, **{name: version}))
    assert [w.category for w in caught] == [UntestedVersionWarning]
    low, below = SUPPORTED[name].floor, SUPPORTED[name].tested_below
    assert f'{name} {version} (tested: >={low}, <{below})' in str(caught[0].message)


def test_every_newer_release_is_named_in_one_warning():
    versions = dict(SUPPORTED_STACK, torch='2.16.0', python='3.13.0')
    with pytest.warns(UntestedVersionWarning) as caught:
        check_environment(versions)
    assert len(caught) == 1
    assert 'python 3.13.0 (tested: >=3.9, <3.13), torch 2.16.0 (tested: >=2.0, <2.15)' in str(
        caught[0].message)


def test_every_problem_is_named_with_installed_and_supported_versions():
    versions = dict(SUPPORTED_STACK, torch='1.13.1', mmcv=None, python='3.8.18')
    with pytest.raises(UnsupportedEnvironmentError) as error:
        check_environment(versions)
    message = str(error.value)
    assert message.startswith('sparsevit 0.1.0 cannot run in this environment: ')
    assert 'python 3.8.18 is installed (supported: >=3.9, <3.13): use Python 3.9' in message
    assert 'torch 1.13.1 is installed (supported: >=2.0, <2.15): install torch >= 2.0' in message
    assert 'mmcv is not installed (supported: >=2.0.0rc4, <2.2.0): install mmcv' in message
    named = [problem.split()[0] for problem in message.split(': ', 1)[1].split('; ')]
    assert named == ['python', 'torch', 'mmcv']


@pytest.mark.parametrize('name, version', [('mmcv', '2.2.0'), ('mmengine', '1.0.0')])
def test_a_release_mmdet_refuses_is_refused_with_a_hint_naming_the_package(name, version):
    with pytest.raises(UnsupportedEnvironmentError) as error:
        check_environment(dict(SUPPORTED_STACK, **{name: version}))
    problems = str(error.value).split(': ', 1)[1].split('; ')
    assert len(problems) == 1 and problems[0].startswith(f'{name} {version} is installed')
    assert f'install {name} with' in problems[0]


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


def test_import_with_a_newer_torch_warns_once_and_imports():
    fake_newer = FAKE_TORCH.replace("'1.13.1'", "'2.15.0'")
    result = subprocess.run([sys.executable, '-c', fake_newer], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    warning_lines = [line for line in result.stderr.splitlines()
                     if 'UntestedVersionWarning' in line]
    assert len(warning_lines) == 1
    assert 'torch 2.15.0 (tested: >=2.0, <2.15)' in warning_lines[0]
