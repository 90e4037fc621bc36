"""A user's mistake ends a tool with one ``error: ...`` line, exit status 1 and no traceback;
``--debug`` or ``SPARSEVIT_DEBUG=1`` shows the traceback. The tools run as scripts on a tiny
Mask R-CNN and generated COCO data."""
import json
import os
import re
import runpy
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

from sparsevit.apis import init_model
from sparsevit.demo.synthetic_coco import generate_coco
from sparsevit.utils.cli import DEBUG_ENV

from ..e2e.helpers import mask_rcnn_demo_config
from ..helpers import REPO

TINY = '''
model = dict(
    backbone=dict(embed_dims=24, depths=(2, 2, 2, 2), num_heads=(1, 2, 4, 8), window_size=4,
                  init_cfg=None),
    neck=dict(in_channels=[24, 48, 96, 192], out_channels=16),
    rpn_head=dict(in_channels=16, feat_channels=16),
    roi_head=dict(bbox_roi_extractor=dict(out_channels=16),
                  bbox_head=dict(in_channels=16, fc_out_channels=32, num_classes=3),
                  mask_roi_extractor=dict(out_channels=16),
                  mask_head=dict(in_channels=16, conv_out_channels=16, num_classes=3)))
'''
SEARCH = ['--population', '2', '--parents', '1', '--budget', '2', '--val-size', '1',
          '--latency-shape', '64', '64', '--latency-warmup', '0', '--latency-runs', '1',
          '--threads', '1']


@pytest.fixture(scope='module')
def files(tmp_path_factory) -> dict:
    """Generated COCO data, a tiny SAA config, checkpoints with and without SAA training, and
    data whose annotation file names other categories than the config's classes."""
    root = tmp_path_factory.mktemp('user_errors')
    generate_coco(root / 'coco', num_train=2, num_val=2, image_size=(64, 64), seed=0)
    config = mask_rcnn_demo_config(root / 'tiny_saa.py',
                                   'mask-rcnn_sparse-swin-t-p4-w7_fpn_saa-1x_coco.py',
                                   root / 'coco', extra=TINY)
    state = init_model(str(config)).state_dict()
    text = Config.fromfile(config).pretty_text
    assert 'SparsityAdaptationHook' in text
    torch.save({'state_dict': state, 'meta': {'cfg': text}}, root / 'saa.pth')
    torch.save({'state_dict': state, 'meta': {'cfg': text.replace('SparsityAdaptationHook',
                                                                  'OtherHook')}},
               root / 'dense.pth')
    generate_coco(root / 'other', num_train=2, num_val=2, image_size=(64, 64), seed=0)
    annotations = root / 'other' / 'annotations' / 'instances_val2017.json'
    coco = json.loads(annotations.read_text())
    for category in coco['categories']:
        category['name'] = {'disk': 'circle'}.get(category['name'], category['name'])
    annotations.write_text(json.dumps(coco))
    # without the config's DataFilesCheckHook: the tool checks the data all the same
    other = mask_rcnn_demo_config(root / 'tiny_other.py',
                                  'mask-rcnn_sparse-swin-t-p4-w7_fpn_saa-1x_coco.py',
                                  root / 'other', extra=TINY + 'custom_hooks = []\n')
    return dict(root=root, config=config, saa=root / 'saa.pth', dense=root / 'dense.pth',
                other=other, annotations=annotations)


def run_tool(tool: str, cwd: Path, *args) -> subprocess.CompletedProcess:
    """``tools/<tool>`` as a user runs it in ``cwd`` (without ``SPARSEVIT_DEBUG``)."""
    env = {k: v for k, v in os.environ.items() if k != DEBUG_ENV}
    return subprocess.run([sys.executable, str(REPO / 'tools' / tool), *map(str, args)],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


# name -> (tool, its arguments from the files, what the error line says)
CASES = {
    'missing config': ('test.py', lambda f: ['nope.py', f['saa']],
                       r'config file nope\.py does not exist'),
    'missing checkpoint': ('test.py', lambda f: [f['config'], '/nonexistent.pth'],
                           r'checkpoint /nonexistent\.pth does not exist'),
    'band no configuration meets': (
        'search.py', lambda f: [f['config'], f['saa'], '--latency-min', '0', '--latency-max',
                                '0.00001', *SEARCH, '--work-dir', f['root'] / 'band'],
        r'no configuration can meet the latency band \[0\.0, 1e-05\] ms: the sparsest .* '
        r'choose a band inside \[.*\]; set it with --latency-min and --latency-max'),
    'checkpoint without SAA': (
        'search.py', lambda f: [f['config'], f['dense'], '--latency-min', '0', '--latency-max',
                                '100000', *SEARCH, '--work-dir', f['root'] / 'dense'],
        r'dense\.pth was not trained with sparsity-aware adaptation .* fine-tune it with an SAA '
        r'config .*; or pass --allow-non-saa to search it anyway'),
    'categories of the annotation file differ': (
        'test.py', lambda f: [f['other'], f['saa'], '--work-dir', f['root'] / 'test_other'],
        r"CocoDataset: the annotation file .*other/annotations/instances_val2017\.json has no "
        r"categories named \['disk'\]; its categories are \['square', 'circle', 'triangle'\]"),
}


@pytest.mark.parametrize('case', list(CASES))
def test_one_line_without_traceback(files, case):
    tool, arguments, message = CASES[case]
    done = run_tool(tool, files['root'], *arguments(files))
    assert done.returncode == 1, done.stderr
    assert 'Traceback' not in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith('error: ')
    assert re.fullmatch(f'error: .*{message}', last), last


def test_debug_shows_the_traceback(files):
    """``--debug`` here; ``SPARSEVIT_DEBUG=1`` in tests/utils/test_cli.py."""
    done = run_tool('test.py', files['root'], files['config'], '/nonexistent.pth', '--debug')
    assert done.returncode == 1
    assert 'Traceback (most recent call last)' in done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        'FileNotFoundError: checkpoint /nonexistent.pth does not exist')


def run_in_process(tool: str, monkeypatch, *args) -> str:
    """``tools/<tool>`` run as ``__main__`` in this process (no imports to pay again): the
    one line it ends with, after checking that it exits with status 1."""
    monkeypatch.delenv(DEBUG_ENV, raising=False)
    monkeypatch.setattr(sys, 'argv', [tool, *map(str, args)])
    with pytest.raises(SystemExit) as exit_:
        runpy.run_path(str(REPO / 'tools' / tool), run_name='__main__')
    line = str(exit_.value.code)
    assert line.startswith('error: ') and '\n' not in line, line
    return line


def test_a_sample_index_outside_the_dataset(files, monkeypatch):
    line = run_in_process('analysis/get_flops.py', monkeypatch, files['config'],
                          '--sample-index', '7')
    assert line == ('error: sample 7 is outside the test dataset of 2 samples (0 to 1); '
                    'choose it with --sample-index')


def test_a_model_without_sparse_backbone(files, monkeypatch):
    dense = files['root'] / 'dense_swin.py'
    dense.write_text(f'''_base_ = {str(files['config'])!r}
model = dict(backbone=dict(_delete_=True, type='SwinTransformer', embed_dims=24,
                           depths=(2, 2, 2, 2), num_heads=(1, 2, 4, 8), window_size=4,
                           init_cfg=None))
''')
    line = run_in_process('analysis/get_flops.py', monkeypatch, dense)
    assert re.fullmatch(r'error: MaskRCNN of .*/dense_swin\.py contains no SparseSwinTransformer '
                        r'backbone; its backbone must be a SparseSwinTransformer .*', line), line


def test_a_config_of_another_codebase(files, monkeypatch):
    other = files['root'] / 'classifier.py'
    other.write_text("default_scope = 'mmpretrain'\n")
    image = next((files['root'] / 'coco').rglob('*.jpg'))
    line = run_in_process('analysis/visualize_windows.py', monkeypatch, other, files['saa'],
                          image)
    assert re.fullmatch(r'error: .*/classifier\.py: expected an mmdet, mmseg or mmdet3d config '
                        r".*, it has default_scope='mmpretrain'", line), line


@pytest.mark.parametrize('tool, typo, registry', [
    ('train.py', "train_dataloader = dict(dataset=dict(type='CocoDatasett'))", 'dataset'),
    ('test.py', "test_evaluator = dict(type='CocoMetricc')", 'metric')])
def test_a_misspelled_type_of_a_part_the_runner_builds_late(files, monkeypatch, tool, typo,
                                                            registry):
    config = files['root'] / f'typo_{registry}.py'
    config.write_text(f"_base_ = {str(files['config'])!r}\n{typo}\n")
    args = [config] if tool == 'train.py' else [config, files['saa']]
    line = run_in_process(tool, monkeypatch, *args, '--work-dir', files['root'] / 'typo_run')
    assert re.fullmatch(rf"error: .*/typo_{registry}\.py: type='\w+' is not in the "
                        rf'mmdet::{registry} registry: a misspelled type, .*', line), line


def test_a_misspelled_type(files, monkeypatch):
    typo = files['root'] / 'typo.py'
    typo.write_text(f"_base_ = {str(files['config'])!r}\n"
                    "model = dict(neck=dict(type='FPNN'))\n")
    line = run_in_process('analysis/get_flops.py', monkeypatch, typo)
    assert re.fullmatch(r"error: .*/typo\.py: type='FPNN' is not in the mmdet::model registry: "
                        r'a misspelled type, .*', line), line
