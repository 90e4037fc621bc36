"""The Python and package versions sparsevit runs with, checked when it is imported.

The check reads installed versions from package metadata, before anything
imports torch, mmcv or mmdet. Each package has three bounds:

- a floor: anything older is refused, since the code uses what it added;
- the end of the tested range: a newer release gets one warning that names it
  and the tested range, and runs (new releases of torch, numpy and Python
  usually work, and refusing them would block every user who installs today's);
- for mmcv and mmengine only, a first release known not to work: mmdet 3.3,
  mmseg 1.2 and mmdet3d 1.4 themselves refuse mmcv >= 2.2.0 and
  mmengine >= 1.0.0, so sparsevit refuses them first, with a hint that names
  the package.

A refusal is one :class:`UnsupportedEnvironmentError` listing every problem,
instead of a traceback from deep inside a library.
"""
import re
import sys
import warnings
from importlib import metadata
from typing import Mapping, NamedTuple, Optional


class VersionRange(NamedTuple):
    """The versions of one package: ``floor`` <= tested < ``tested_below``."""
    floor: str
    tested_below: str
    refused_from: Optional[str]  # first version known not to work; None: newer only warns
    hint: str  # how to install a version that works


SUPPORTED = {
    'python': VersionRange('3.9', '3.13', None, 'use Python 3.9 or newer'),
    'torch': VersionRange('2.0', '2.15', None,
                          'install torch >= 2.0 (https://pytorch.org/get-started/locally/)'),
    'mmcv': VersionRange('2.0.0rc4', '2.2.0', '2.2.0',
                         "install mmcv with `mim install 'mmcv>=2.0.0rc4,<2.2.0'`, whose "
                         'prebuilt wheels match your torch and CUDA (mmdet 3.3, mmseg 1.2 and '
                         'mmdet3d 1.4 refuse mmcv 2.2)'),
    'mmengine': VersionRange('0.10.0', '1.0.0', '1.0.0',
                             "install mmengine with `pip install 'mmengine>=0.10.0,<1.0.0'` "
                             '(mmdet 3.3 refuses mmengine 1.0)'),
    'mmdet': VersionRange('3.3.0', '3.4.0', None,
                          "install mmdet with `pip install 'mmdet>=3.3.0,<3.4.0'`"),
    'numpy': VersionRange('1.22', '2.6', None, "install numpy with `pip install 'numpy>=1.22'`"),
}


class UnsupportedEnvironmentError(ImportError):
    """Python or a package sparsevit needs is missing, too old, or known not to work."""


class UntestedVersionWarning(UserWarning):
    """A package is newer than the versions sparsevit was tested with; it still runs."""


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


def _at_least(version: str, bound: str) -> bool:
    found, limit = version_tuple(version), version_tuple(bound)
    length = max(len(found), len(limit))
    return found + (0, ) * (length - len(found)) >= limit + (0, ) * (length - len(limit))


def is_refused(name: str, version: str) -> bool:
    """Whether ``version`` of ``name`` is below its floor or known not to work."""
    bounds = SUPPORTED[name]
    return not _at_least(version, bounds.floor) or (bounds.refused_from is not None
                                                    and _at_least(version, bounds.refused_from))


def is_tested(name: str, version: str) -> bool:
    """Whether ``version`` of ``name`` lies in the range sparsevit was tested with."""
    bounds = SUPPORTED[name]
    return _at_least(version, bounds.floor) and not _at_least(version, bounds.tested_below)


def _range(bounds: VersionRange) -> str:
    return f'>={bounds.floor}, <{bounds.tested_below}'


def check_environment(versions: Optional[Mapping[str, Optional[str]]] = None) -> None:
    """Refuse a missing or unworkable package; warn once about each untested newer one.

    Raises :class:`UnsupportedEnvironmentError` that lists every missing package
    and every version below its floor or known not to work, each with how to
    install one that works. Versions above the tested range only warn
    (:class:`UntestedVersionWarning`).

    Args:
        versions: installed versions by name; default: read from this environment.
    """
    versions = installed_versions() if versions is None else versions
    problems, untested = [], []
    for name, bounds in SUPPORTED.items():
        found = versions.get(name)
        if found is None:
            problems.append(f'{name} is not installed (supported: {_range(bounds)}): '
                            f'{bounds.hint}')
        elif is_refused(name, found):
            problems.append(f'{name} {found} is installed (supported: {_range(bounds)}): '
                            f'{bounds.hint}')
        elif not is_tested(name, found):
            untested.append(f'{name} {found} (tested: {_range(bounds)})')
    if problems:
        from .version import __version__
        raise UnsupportedEnvironmentError(
            f'sparsevit {__version__} cannot run in this environment: ' + '; '.join(problems))
    if untested:
        warnings.warn(
            'sparsevit runs with versions newer than those it was tested with: '
            + ', '.join(untested) + '. Please report a problem you meet with them.',
            UntestedVersionWarning, stacklevel=2)
