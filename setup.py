"""Installs ``sparsevit``: metadata in setup.cfg, dependencies from requirements/*.txt.

Like mmdet, mmseg and mmdet3d, an installed package carries its configs, tools and
model index under ``sparsevit/.mim``, where ``mim train/test/search sparsevit`` find
them. They are copied into the build, never into the source tree.
"""
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
PROJECT = ROOT / 'projects' / 'sparsevit'
# what .mim holds: name inside .mim -> source in the repository
MIM_FILES = {
    'configs': ROOT / 'configs',
    'tools': ROOT / 'tools',
    'model-index.yml': PROJECT / 'model-index.yml',
    'metafile.yml': PROJECT / 'metafile.yml',
}


def requirements(name: str) -> list[str]:
    """The requirement lines of ``requirements/<name>.txt``, without comments."""
    lines = (ROOT / 'requirements' / f'{name}.txt').read_text().splitlines()
    found = [line.split('#')[0].strip() for line in lines]
    return [line for line in found if line and not line.startswith('-')]


class BuildWithMimFiles(build_py):
    """``build_py`` that also puts configs, tools and the model index into ``sparsevit/.mim``."""

    def run(self) -> None:
        super().run()
        if getattr(self, 'editable_mode', False):
            return  # an editable install runs from the checkout, configs and tools included
        target = Path(self.build_lib) / 'sparsevit' / '.mim'
        shutil.rmtree(target, ignore_errors=True)  # nothing stale from an earlier build
        target.mkdir(parents=True)
        ignore = shutil.ignore_patterns('__pycache__', '*.pyc')
        for name, source in MIM_FILES.items():
            if source.is_dir():
                shutil.copytree(source, target / name, ignore=ignore)
            else:
                shutil.copy2(source, target / name)


setup(
    install_requires=requirements('runtime'),
    extras_require={
        'seg': requirements('seg'),
        '3d': requirements('3d'),
        'optional': requirements('optional'),
        'deploy': requirements('deploy'),
        'tests': requirements('tests'),
        'mim': requirements('mminstall'),
        'all': requirements('seg') + requirements('3d') + requirements('optional') +
        requirements('deploy'),
    },
    cmdclass={'build_py': BuildWithMimFiles},
)
