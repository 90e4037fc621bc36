"""Installing the plugin into an environment that has its stack leaves that stack alone."""
import json
import os
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from ..helpers import REPO


def _installed_into_this_environment() -> bool:
    """Whether pip installed the plugin here, rather than a folder on PYTHONPATH holding it (the
    GPU machine's way: the environment then lacks what its packages declare, on purpose)."""
    try:
        dist = metadata.distribution('sparsevit')
    except metadata.PackageNotFoundError:
        return False
    on_pythonpath = {Path(p).resolve() for p in os.environ.get('PYTHONPATH', '').split(os.pathsep)
                     if p}
    return Path(dist.locate_file('')).resolve() not in on_pythonpath


pytestmark = pytest.mark.skipif(not _installed_into_this_environment(),
                                reason='sparsevit is on PYTHONPATH, not installed with pip here')


def test_pip_install_editable_touches_nothing_but_the_plugin(tmp_path):
    """``pip install -e .[seg]`` here (torch, mmcv, mmdet, mmseg installed) adds only sparsevit.

    ``--no-index`` keeps pip offline: a dependency it would have to fetch fails the test too.
    """
    report = tmp_path / 'report.json'
    subprocess.run([sys.executable, '-m', 'pip', 'install', '--dry-run', '--no-index',
                    '--no-build-isolation', '--quiet', '--report', str(report),
                    '-e', f'{REPO}[seg]'], check=True, capture_output=True, text=True)
    planned = [item['metadata']['name'] for item in json.loads(report.read_text())['install']]
    assert planned == ['sparsevit']


def test_declared_requirements_leave_torch_and_mmcv_to_the_environment():
    declared = metadata.requires('sparsevit')
    always = {re.match(r'[\w-]+', r).group(0) for r in declared if 'extra ==' not in r}
    assert {'mmdet', 'mmengine', 'numpy'} <= always
    assert not always & {'torch', 'torchvision', 'mmcv'}
    extras = set(metadata.metadata('sparsevit').get_all('Provides-Extra'))
    assert {'seg', '3d', 'mim', 'all', 'tests'} <= extras
    assert any(r.startswith('mmcv') and 'extra == "mim"' in r for r in declared)
