"""The ``.mim`` folder an editable install makes in the source package: relative symlinks to
the checkout's configs, tools and model index (setup.py's ``link_mim_files``), git-ignored.
Nothing is installed: setup.py is read with ``setuptools.setup`` replaced."""
import os
import runpy
import subprocess

import pytest
import setuptools

from ..helpers import REPO


@pytest.fixture(scope='module')
def setup_py():
    """setup.py's globals, without running ``setup()``."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(setuptools, 'setup', lambda **kwargs: None)
        patch.setattr('sys.argv', ['setup.py', 'egg_info'])  # not an editable command
        return runpy.run_path(str(REPO / 'setup.py'), run_name='setup_under_test')


@pytest.fixture
def sources(tmp_path):
    """A checkout-like tree: configs/, tools/ and the two model-index files."""
    (tmp_path / 'configs' / 'demo').mkdir(parents=True)
    (tmp_path / 'configs' / 'demo' / 'a.py').write_text('x = 1\n')
    (tmp_path / 'tools').mkdir()
    (tmp_path / 'tools' / 'train.py').write_text('print(1)\n')
    project = tmp_path / 'projects' / 'sparsevit'
    (project / 'sparsevit').mkdir(parents=True)
    (project / 'model-index.yml').write_text('Import:\n  - metafile.yml\n')
    (project / 'metafile.yml').write_text('Models: []\n')
    return project / 'sparsevit', {
        'configs': tmp_path / 'configs', 'tools': tmp_path / 'tools',
        'model-index.yml': project / 'model-index.yml', 'metafile.yml': project / 'metafile.yml'}


def test_links_point_back_to_the_checkout(setup_py, sources):
    package, files = sources
    mim = setup_py['link_mim_files'](package, files)
    assert mim == package / '.mim'
    for name, source in files.items():
        link = mim / name
        assert link.is_symlink() and not os.path.isabs(os.readlink(link))
        assert link.resolve() == source.resolve()
    assert (mim / 'configs' / 'demo' / 'a.py').read_text() == 'x = 1\n'
    (files['configs'] / 'demo' / 'b.py').write_text('y = 2\n')  # an edit shows through
    assert (mim / 'configs' / 'demo' / 'b.py').is_file()


def test_linking_again_keeps_the_links_and_replaces_stale_copies(setup_py, sources):
    package, files = sources
    mim = package / '.mim'
    (mim / 'configs').mkdir(parents=True)  # a copy left by an earlier build
    (mim / 'configs' / 'old.py').write_text('')
    (mim / 'metafile.yml').write_text('stale\n')
    setup_py['link_mim_files'](package, files)
    setup_py['link_mim_files'](package, files)
    assert all((mim / name).is_symlink() for name in files)
    assert not (mim / 'configs' / 'old.py').exists()
    assert (mim / 'metafile.yml').read_text() == 'Models: []\n'


def test_the_real_sources_exist_and_the_links_are_ignored_by_git(setup_py):
    assert set(setup_py['MIM_FILES']) == {'configs', 'tools', 'model-index.yml', 'metafile.yml'}
    assert all(path.exists() for path in setup_py['MIM_FILES'].values())
    assert setup_py['EDITABLE_COMMANDS'] == {'develop', 'editable_wheel'}
    links = REPO.joinpath('projects', 'sparsevit', 'sparsevit', '.mim', 'configs')
    ignored = subprocess.run(['git', 'check-ignore', '-q', str(links.relative_to(REPO))], cwd=REPO)
    assert ignored.returncode == 0
