import pytest

from sparsevit.utils import package_files
from sparsevit.utils.package_files import config_path


def test_shipped_configs_are_found():
    path = config_path('demo/mask-rcnn_swin-mini-p4-w7_fpn_demo-coco.py')
    assert path.is_file() and path.parent.name == 'demo'
    with pytest.raises(FileNotFoundError, match='config demo/nope.py is not shipped'):
        config_path('demo/nope.py')


def test_installed_package_data_comes_first(tmp_path, monkeypatch):
    installed, checkout = tmp_path / '.mim' / 'configs', tmp_path / 'configs'
    for root in (installed, checkout):
        (root / 'demo').mkdir(parents=True)
        (root / 'demo' / 'a.py').write_text('')
    (checkout / 'demo' / 'b.py').write_text('')
    monkeypatch.setattr(package_files, 'CONFIG_ROOTS', (installed, checkout))
    assert config_path('demo/a.py') == installed / 'demo' / 'a.py'
    assert config_path('demo/b.py') == checkout / 'demo' / 'b.py'
