"""The sparsity-aware adaptation configs of every task share one SAA hook (configs/_base_)."""
from pathlib import Path

import pytest
from mmengine.config import Config
from mmengine.registry import HOOKS

from sparsevit import SparsityAdaptationHook

CONFIGS = Path(__file__).parents[2] / 'configs'
FRAGMENT = CONFIGS / '_base_' / 'sparsity_adaptation.py'
SAA_CONFIGS = sorted(str(p.relative_to(CONFIGS)) for p in CONFIGS.glob('*/*saa*.py'))
SAA_HOOK = dict(type='SparsityAdaptationHook', choices=[i / 10 for i in range(9)],
                grouping='pair', eval_sparsity=None)


def test_every_task_has_an_saa_config():
    assert {Path(name).parts[0] for name in SAA_CONFIGS} == {
        'bevdet', 'demo', 'mask2former', 'mask_rcnn', 'upernet'}


@pytest.mark.parametrize('name', SAA_CONFIGS)
def test_saa_configs_add_the_shared_hook_after_the_data_check(name):
    cfg = Config.fromfile(str(CONFIGS / name))
    expected = dict(SAA_HOOK, log_interval=25) if name.startswith('demo/') else SAA_HOOK
    assert cfg.custom_hooks == [dict(type='DataFilesCheckHook'), expected]


def test_the_shared_hook_builds():
    hook = HOOKS.build(Config.fromfile(str(FRAGMENT)).sparsity_adaptation_hook)
    assert isinstance(hook, SparsityAdaptationHook)
    assert hook.choices == tuple(SAA_HOOK['choices']) and hook.grouping == 'pair'
