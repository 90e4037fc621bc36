"""The package as mim knows it: a wheel of this tree, installed, driven by its package name.

The wheel is built from a copy of the working tree and installed into its own
folder, which comes first on PYTHONPATH: mim then finds ``sparsevit`` there, as in
an environment where it was installed with ``pip install .`` or ``mim install .``.
"""
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from sparsevit.demo.synthetic_coco import generate_coco

from ..helpers import REPO, mim_command

pytestmark = [pytest.mark.slow, pytest.mark.all_stacks]
DEMO = 'mask-rcnn_swin-mini-p4-w7_fpn_demo-coco.py'
SAA_DEMO = 'mask-rcnn_swin-mini-p4-w7_fpn_saa_demo-coco.py'
SHORT = ['--cfg-options', 'train_cfg.max_iters=2', 'train_cfg.val_interval=2',
         'default_hooks.checkpoint.interval=2']


def tracked_and_new_files() -> list[str]:
    return subprocess.run(['git', 'ls-files', '--cached', '--others', '--exclude-standard'],
                          cwd=REPO, check=True, capture_output=True, text=True).stdout.split()


@pytest.fixture(scope='module')
def installed(tmp_path_factory):
    """A wheel of the working tree and the folder it is installed in."""
    root = tmp_path_factory.mktemp('mim')
    source = root / 'source'
    for name in tracked_and_new_files():
        if (REPO / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, source / name)
    pip = [sys.executable, '-m', 'pip', '--disable-pip-version-check']
    subprocess.run([*pip, 'wheel', '--no-deps', '--no-build-isolation', '-w', str(root / 'dist'),
                    str(source)], check=True, capture_output=True)
    wheel = next((root / 'dist').glob('sparsevit-*.whl'))
    subprocess.run([*pip, 'install', '--no-deps', '--target', str(root / 'site'), str(wheel)],
                   check=True, capture_output=True)
    return wheel, root / 'site'


def mim(site: Path, cwd: Path, *args: str) -> str:
    """Run the venv's ``mim`` with the installed wheel first on the path; its output."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(site), *filter(None, [os.environ.get('PYTHONPATH')])]))
    done = subprocess.run([mim_command(), *args], cwd=cwd, env=env,
                          check=True, capture_output=True, text=True)
    return done.stdout + done.stderr


def test_the_wheel_carries_configs_tools_and_model_index(installed):
    wheel, _ = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in ('model-index.yml', 'metafile.yml', 'tools/train.py', 'tools/test.py',
                 'tools/search.py', f'configs/demo/{DEMO}',
                 'configs/bevdet/bevdet-tiny_sparse-swin-t_8xb8-saa-8e_nus-3d.py',
                 'configs/_base_/sparsity_adaptation.py'):
        assert f'sparsevit/.mim/{name}' in names
    assert not [n for n in names if '__pycache__' in n]


def test_installed_saa_config_finds_its_base_files_in_the_package(installed, tmp_path):
    """The SAA config as the installed package finds it (mim, the demo): its relative bases,
    the shared SAA fragment included, resolve inside ``.mim``."""
    _, site = installed
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(site), *filter(None, [os.environ.get('PYTHONPATH')])]))
    done = subprocess.run(
        [sys.executable, '-c', 'import sys; from mmengine.config import Config; '
         'from sparsevit.utils.package_files import config_path; '
         'path = config_path(sys.argv[1]); print(path); '
         'print([h["type"] for h in Config.fromfile(str(path)).custom_hooks])',
         f'demo/{SAA_DEMO}'], cwd=tmp_path, env=env, check=True, capture_output=True, text=True)
    path, hooks = done.stdout.splitlines()[-2:]
    assert path == f'{site}/sparsevit/.mim/configs/demo/{SAA_DEMO}'
    assert hooks == "['DataFilesCheckHook', 'SparsityAdaptationHook']"


def test_mim_search_lists_the_model_zoo(installed, tmp_path):
    _, site = installed
    out = mim(site, tmp_path, 'search', 'sparsevit')
    assert 'mask-rcnn_sparse-swin-t-p4-w7_fpn_ft-3x_coco_sparsevit-34ms' in out


def test_mim_train_and_test_by_package_and_config_name(installed, tmp_path):
    _, site = installed
    generate_coco(tmp_path / 'data' / 'demo_coco', num_train=8, num_val=3, image_size=(224, 224))
    trained = mim(site, tmp_path, 'train', 'sparsevit', DEMO, '--work-dir', 'work', *SHORT)
    assert f'{site}/sparsevit/.mim/configs/demo/{DEMO}' in trained  # found by its name
    checkpoint = tmp_path / 'work' / 'iter_2.pth'
    assert checkpoint.is_file()
    tested = mim(site, tmp_path, 'test', 'sparsevit', DEMO, '--checkpoint', str(checkpoint),
                 '--work-dir', 'work')
    assert 'coco/bbox_mAP' in tested and 'coco/segm_mAP' in tested
