"""``task_of``: the codebase of a config, and a config of another one as a user's mistake."""
import pytest
from mmdet.registry import MODELS
from mmengine.config import Config
from mmengine.registry import DefaultScope

from sparsevit.utils import ConfigError, task_of
from sparsevit.utils.cli import USER_ERRORS
from sparsevit.utils.config import unknown_types_as_config_errors


@pytest.mark.parametrize('scope', ['mmdet', 'mmseg', 'mmdet3d'])
def test_task_of_a_config(scope):
    assert task_of(Config(dict(default_scope=scope))) == scope


def test_a_config_of_another_codebase_is_a_user_error(tmp_path):
    path = tmp_path / 'resnet50_imagenet.py'
    path.write_text("default_scope = 'mmpretrain'\n")
    with pytest.raises(ConfigError, match=r'^.*/resnet50_imagenet\.py: expected an mmdet, mmseg '
                       r"or mmdet3d config .*, it has default_scope='mmpretrain'$"):
        task_of(Config.fromfile(path))
    with pytest.raises(ConfigError, match="^the config: .* default_scope=None$"):
        task_of(Config(dict()))
    assert issubclass(ConfigError, USER_ERRORS)


def test_a_type_no_registry_holds_is_a_config_error():
    cfg = Config(dict(default_scope='mmdet', model=dict(type='MaskRCNNN')))
    with pytest.raises(ConfigError, match=r"^the config: type='MaskRCNNN' is not in the "
                       r'mmdet::model registry: a misspelled type, .*\(custom_imports\)$'):
        with unknown_types_as_config_errors(cfg), DefaultScope.overwrite_default_scope('mmdet'):
            MODELS.build(cfg.model)


def test_other_key_errors_pass_unchanged():
    with pytest.raises(KeyError, match='backbone'):
        with unknown_types_as_config_errors(Config()):
            raise KeyError('backbone')
