"""The Python and package versions sparsevit supports, checked when it is imported.

The check reads installed versions from package metadata, before anything
imports torch, mmcv or mmdet, so an unsupported environment stops with one
error that names what is installed and what is supported, instead of a
traceback from deep inside a library.
"""
import re
import sys
from importlib import metadata
from typing import Mapping, Optional

# distribution -> (lowest supported version, first unsupported version)
SUPPORTED = {
    'python': ('3.9', '3.13'),
    'torch': ('2.0', '2.15'),
    'mmcv': ('2.0.0rc4', '2.2.0'),
    'mmengine': ('0.10.0', '1.0.0'),
    'mmdet': ('3.3.0', '3.4.0'),
    'numpy': ('1.22', '3'),
}
INSTALL_HINT = ("install a supported version, e.g. `mim install 'mmcv>=2.0.0rc4,<2.2.0'` for "
                'mmcv (its prebuilt wheels match your torch and CUDA)')


class UnsupportedEnvironmentError(ImportError):
    """Python or a package sparsevit needs is missing or outside the supported range."""


def version_tuple(version: str) -> tuple[int, ...]:
    """The release numbers of a version string: ``'2.1.2+cu121'`` -> ``(2, 1, 2)``."""
    match = re.match(r'\d+(\.\d+)*', version)
    if match is None:
        raise ValueError(f'not a version: {version!r}')
    return tuple(int(part) for part in match.group(0).split('.'))


def installed_versions() -> dict[str, Optional[str]]:
    """The installed version of Python and of every package in ``SUPPORTED`` (None: absent)."""
    versions: dict[str, Optional[str]] = {'python': '.'.join(map(str, sys.version_info[:3]))}
    for name in SUPPORTED:
        if name != 'python':
            try:
                versions[name] = metadata.version(name)
            except metadata.PackageNotFoundError:
                versions[name] = None
    return versions


def _padded(version: tuple[int, ...], length: int) -> tuple[int, ...]:
    return version + (0, ) * (length - len(version))


def is_supported(name: str, version: str) -> bool:
    """Whether ``version`` of ``name`` lies in its supported range (release numbers only)."""
    low, below = (version_tuple(v) for v in SUPPORTED[name])
    found = version_tuple(version)
    length = max(len(low), len(below), len(found))
    return _padded(low, length) <= _padded(found, length) < _padded(below, length)


def check_environment(versions: Optional[Mapping[str, Optional[str]]] = None) -> None:
    """Raise :class:`UnsupportedEnvironmentError` listing every missing or unsupported package.

    Args:
        versions: installed versions by name; default: read from this environment.
    """
    versions = installed_versions() if versions is None else versions
    problems = []
    for name, (low, below) in SUPPORTED.items():
        found = versions.get(name)
        if found is None:
            problems.append(f'{name} is not installed (supported: >={low}, <{below})')
        elif not is_supported(name, found):
            problems.append(f'{name} {found} is installed (supported: >={low}, <{below})')
    if problems:
        from .version import __version__
        raise UnsupportedEnvironmentError(
            f'sparsevit {__version__} cannot run in this environment: ' + '; '.join(problems)
            + f'. {INSTALL_HINT}')
