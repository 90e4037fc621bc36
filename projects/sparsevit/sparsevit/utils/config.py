"""Config handling shared by the tools and the APIs."""
import os.path as osp
from typing import Optional

from mmengine.config import Config


def load_config(path: str, cfg_options: Optional[dict] = None,
                work_dir: Optional[str] = None) -> Config:
    """Read a config, apply ``--cfg-options`` and settle the work dir.

    The work dir is, in order: ``work_dir``, the config's own ``work_dir``,
    ``./work_dirs/<config name>``.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'config file {path} does not exist')
    cfg = Config.fromfile(path)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(path))[0])
    return cfg


TASKS = ('mmdet', 'mmseg', 'mmdet3d')


def task_of(cfg: Config) -> str:
    """The OpenMMLab codebase of a config (its ``default_scope``): mmdet, mmseg or mmdet3d."""
    scope = cfg.get('default_scope')
    if scope not in TASKS:
        raise ValueError(f'expected an mmdet, mmseg or mmdet3d config, this one has '
                         f'default_scope={scope!r}')
    return scope
