"""Files the package ships beside its code (configs), found where they are installed.

An installed package carries them as mim package data (``sparsevit/.mim/configs``,
the layout of mmdet, mmseg and mmdet3d); a package imported straight from a
source checkout finds them in the checkout's ``configs/``.
"""
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parents[1]
CONFIG_ROOTS = (PACKAGE_DIR / '.mim' / 'configs', PACKAGE_DIR.parents[2] / 'configs')


def config_path(relative: str) -> Path:
    """The shipped config ``configs/<relative>``, e.g. ``'demo/mask-rcnn_..._demo-coco.py'``.

    Raises:
        FileNotFoundError: no shipped config of that name.
    """
    for root in CONFIG_ROOTS:
        if (root / relative).is_file():
            return root / relative
    raise FileNotFoundError(f'config {relative} is not shipped with sparsevit (looked in '
                            f'{", ".join(str(root) for root in CONFIG_ROOTS)}); reinstall the '
                            f'package with `pip install .` or `mim install .` from its repository')
