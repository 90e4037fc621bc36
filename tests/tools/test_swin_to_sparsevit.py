"""tools/model_converters/swin_to_sparsevit.py: run as a script, and its pieces in-process."""
import argparse
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from mmdet.models.backbones import SwinTransformer
from mmengine.config import ConfigDict
from safetensors.torch import save_file
from timm.models.swin_transformer import SwinTransformer as TimmSwinTransformer

from sparsevit import SparseSwinTransformer

from ..helpers import load_tool
from ..models.backbones.test_swin_converter import (SWIN_T, assert_same_stage_outputs,
                                                    make_timm_swin_t, our_stage_outputs,
                                                    timm_reference_outputs, timm_to_original)

ROOT = Path(__file__).parents[2]
TOOL = ROOT / 'tools' / 'model_converters' / 'swin_to_sparsevit.py'


@pytest.fixture(scope='module')
def tool():
    return load_tool('model_converters/swin_to_sparsevit')


def run_tool(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(TOOL), *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def small_timm_state() -> dict:
    """A two-stage timm Swin: the timm layout at a size that saves in milliseconds."""
    model = TimmSwinTransformer(img_size=32, embed_dim=16, depths=(1, 1), num_heads=(1, 2),
                                window_size=4, num_classes=3)
    return model.state_dict()


def test_converts_timm_checkpoint_that_sparsevit_and_mmdet_load(tmp_path):
    timm_model = make_timm_swin_t()
    src, dst = tmp_path / 'swin_t_timm.pth', tmp_path / 'out' / 'swin_t_sparsevit.pth'
    torch.save({'model': timm_model.state_dict(), 'epoch': 300}, src)

    result = run_tool(src, dst)
    assert result.returncode == 0, result.stderr
    assert 'wrote 169 tensors (timm layout)' in result.stdout
    # written atomically: nothing but the result next to it
    assert sorted(p.name for p in dst.parent.iterdir()) == [dst.name]

    saved = torch.load(dst, map_location='cpu', weights_only=True)
    assert saved['meta'] == {'converted_from': str(src), 'layout': 'timm'}
    assert len(saved['state_dict']) == 169
    assert all(k.startswith('backbone.') for k in saved['state_dict'])

    images = torch.randn(1, 3, 224, 224)
    reference = timm_reference_outputs(timm_model, images)
    # as built from a config: mmdet's SwinTransformer reads init_cfg.checkpoint as an attribute
    init_cfg = ConfigDict(type='Pretrained', checkpoint=str(dst))
    for cls in (SparseSwinTransformer, SwinTransformer):
        backbone = cls(**SWIN_T, init_cfg=init_cfg)
        backbone.init_weights()
        assert_same_stage_outputs(our_stage_outputs(backbone, images), reference)


def test_original_layout_is_detected_or_forced(tool, tmp_path, capsys):
    timm_model = TimmSwinTransformer(img_size=32, embed_dim=16, depths=(1, 1), num_heads=(1, 2),
                                     window_size=4, num_classes=3)
    original = timm_to_original(timm_model.state_dict(), timm_model)
    torch.save({'model': original}, tmp_path / 'orig.pth')
    for extra in ([], ['--layout', 'original']):
        assert tool.main([str(tmp_path / 'orig.pth'), str(tmp_path / 'out.pth'), *extra]) == 0
        assert 'tensors (original layout)' in capsys.readouterr().out
        saved = torch.load(tmp_path / 'out.pth', weights_only=True)
        assert saved['meta']['layout'] == 'original'
        assert 'backbone.stages.0.downsample.reduction.weight' in saved['state_dict']


def test_unknown_layout_fails_clearly_and_writes_nothing(tool, tmp_path, capsys):
    torch.save({'state_dict': {'conv1.weight': torch.zeros(2), 'fc.weight': torch.zeros(2)}},
               tmp_path / 'resnet.pth')
    assert tool.main([str(tmp_path / 'resnet.pth'), str(tmp_path / 'out.pth')]) == 1
    err = capsys.readouterr().err
    assert 'not a Swin Transformer state dict' in err
    assert 'first keys: conv1.weight, fc.weight' in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ['resnet.pth']


def test_missing_source_and_bad_arguments(tool, tmp_path, capsys):
    assert tool.main([str(tmp_path / 'nope.pth'), str(tmp_path / 'out.pth')]) == 1
    assert 'nope.pth does not exist' in capsys.readouterr().err
    (tmp_path / 'text.pth').write_text('not a checkpoint')
    assert tool.main([str(tmp_path / 'text.pth'), str(tmp_path / 'out.pth')]) == 1
    assert 'cannot read' in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        tool.main(['a.pth', 'b.pth', '--layout', 'mmpretrain'])
    assert exc.value.code == 2
    assert "invalid choice: 'mmpretrain'" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ['text.pth']


def test_debug_shows_the_traceback(tool, tmp_path, monkeypatch):
    monkeypatch.setenv('SPARSEVIT_DEBUG', '0')  # restored after --debug sets it
    (tmp_path / 'text.pth').write_text('not a checkpoint')
    with pytest.raises(pickle.UnpicklingError):
        tool.main([str(tmp_path / 'text.pth'), str(tmp_path / 'out.pth'), '--debug'])


def test_forced_layout_that_does_not_fit_is_an_error(tool, tmp_path, capsys):
    torch.save(small_timm_state(), tmp_path / 'timm.pth')
    assert tool.main([str(tmp_path / 'timm.pth'), str(tmp_path / 'out.pth'),
                      '--layout', 'original']) == 1
    assert "patch merging after the last stage 1" in capsys.readouterr().err
    assert not (tmp_path / 'out.pth').exists()


def test_failed_write_keeps_the_old_file_and_leaves_no_temporary(tool, tmp_path, monkeypatch):
    torch.save(small_timm_state(), tmp_path / 'timm.pth')
    (tmp_path / 'out.pth').write_bytes(b'previous result')

    def broken_save(obj, f):
        f.write(b'half a checkpoint')
        raise OSError('disk full')

    monkeypatch.setattr(tool.torch, 'save', broken_save)
    with pytest.raises(OSError, match='disk full'):
        tool.main([str(tmp_path / 'timm.pth'), str(tmp_path / 'out.pth')])
    assert (tmp_path / 'out.pth').read_bytes() == b'previous result'
    assert sorted(p.name for p in tmp_path.iterdir()) == ['out.pth', 'timm.pth']


def test_training_checkpoint_with_pickled_objects_and_safetensors(tool, tmp_path, capsys):
    state = small_timm_state()
    # timm's train.py stores its argparse namespace next to the weights
    torch.save({'state_dict': state, 'args': argparse.Namespace(lr=1e-3)}, tmp_path / 'train.pth')
    assert tool.main([str(tmp_path / 'train.pth'), str(tmp_path / 'a.pth')]) == 1
    assert '--unsafe-load reads it with full unpickling' in capsys.readouterr().err
    assert not (tmp_path / 'a.pth').exists()
    assert tool.main([str(tmp_path / 'train.pth'), str(tmp_path / 'a.pth'), '--unsafe-load']) == 0
    captured = capsys.readouterr()
    assert 'full unpickling' in captured.err and 'tensors (timm layout)' in captured.out
    save_file(state, str(tmp_path / 'model.safetensors'))
    assert tool.main([str(tmp_path / 'model.safetensors'), str(tmp_path / 'b.pth')]) == 0
    assert 'tensors (timm layout)' in capsys.readouterr().out
    a = torch.load(tmp_path / 'a.pth', weights_only=True)['state_dict']
    b = torch.load(tmp_path / 'b.pth', weights_only=True)['state_dict']
    assert sorted(a) == sorted(b) and all(torch.equal(a[k], b[k]) for k in a)
