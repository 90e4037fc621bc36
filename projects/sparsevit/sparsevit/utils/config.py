"""Config handling shared by the tools and the APIs."""
import os.path as osp
import re
from contextlib import contextmanager
from typing import Iterator, Optional, Union

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


class ConfigError(ValueError):
    """A config that is not one this project runs (e.g. not of mmdet, mmseg or mmdet3d)."""


def task_of(cfg: Config) -> str:
    """The OpenMMLab codebase of a config (its ``default_scope``): mmdet, mmseg or mmdet3d.

    Raises:
        ConfigError: the config is of none of them.
    """
    scope = cfg.get('default_scope')
    if scope not in TASKS:
        name = getattr(cfg, 'filename', None) or 'the config'
        raise ConfigError(f'{name}: expected an mmdet, mmseg or mmdet3d config '
                          f'(default_scope one of {", ".join(TASKS)}), it has '
                          f'default_scope={scope!r}')
    return scope


# how mmengine's build functions say that a config's type= names nothing registered
_NOT_REGISTERED = re.compile(r'(\S+) is not in the (\S+) registry')


@contextmanager
def unknown_types_as_config_errors(config: Union[Config, str]) -> Iterator[None]:
    """Within the block, a ``type=`` of ``config`` (a config or its path) that no registry
    holds (mmengine's KeyError "... is not in the ... registry") stops with a
    :class:`ConfigError`; other KeyErrors pass unchanged."""
    try:
        yield
    except KeyError as err:
        message = err.args[0] if err.args and isinstance(err.args[0], str) else str(err)
        found = _NOT_REGISTERED.search(message)
        if found is None:
            raise
        name = config if isinstance(config, str) else getattr(config, 'filename', None)
        name = name or 'the config'
        raise ConfigError(f'{name}: type={found[1]!r} is not in the {found[2]} registry: a '
                          f'misspelled type, or a module the config does not import '
                          f'(custom_imports)') from err
