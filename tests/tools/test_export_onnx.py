"""tools/deployment/export_onnx.py and verify_onnx.py on the demo Mask R-CNN config."""
import json

import pytest
import torch

from sparsevit.apis import init_model
from sparsevit.deployment import DeploymentError
from sparsevit.utils import run_tool

from ..helpers import REPO, load_tool

CONFIG = str(REPO / 'configs' / 'demo' / 'mask-rcnn_swin-mini-p4-w7_fpn_demo-coco.py')
SPARSITY = '[0.5, 0, [0.3, 0.5], 0]'
QUICK = ['--warmup', '0', '--runs', '2', '--threads', '1']


@pytest.fixture(scope='module')
def export_tool():
    return load_tool('deployment/export_onnx')


@pytest.fixture(scope='module')
def verify_tool():
    return load_tool('deployment/verify_onnx')


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp('ckpt') / 'demo.pth'
    torch.save({'state_dict': init_model(CONFIG).state_dict(), 'meta': {}}, path)
    return str(path)


def run(tool, argv):
    """A tool's main as its command line runs it: bad input ends it with one line."""
    return run_tool(lambda: tool.main(argv), (DeploymentError, ))


def test_export_verify_and_report(export_tool, checkpoint, tmp_path, capsys):
    out, report = tmp_path / 'sparse.onnx', tmp_path / 'report.json'
    result = export_tool.main([CONFIG, checkpoint, '--sparsity', SPARSITY, '--shape', '128',
                               '160', '--batch', '2', '--out', str(out), '--verify',
                               '--report', str(report), *QUICK])
    printed = capsys.readouterr().out
    assert 'random input: max abs diff' in printed and 'real-looking input' in printed
    assert 'kept windows identical: ok' in printed and 'FAILED' not in printed
    assert 'ONNX Runtime, input (2, 3, 128, 160): dense' in printed
    saved = json.loads(report.read_text())
    assert saved == json.loads(json.dumps(result))
    assert saved['sparsity'] == [0.5, 0.0, [0.3, 0.5], 0.0]
    assert saved['input_shape'] == [2, 3, 128, 160] and saved['parts'] == 'backbone'
    assert [a['input'] for a in saved['agreement']] == ['random', 'real-looking']
    assert all(a['kept_identical'] and a['max_abs_diff'] <= 1e-4 for a in saved['agreement'])
    assert set(saved['latency']) == {'dense', 'sparse'}
    assert saved['protocol']['threads'] == 1 and saved['protocol']['runs'] == 2
    assert saved['protocol']['runtime'].startswith('onnxruntime ')
    assert saved['ratio'] == pytest.approx(
        saved['latency']['sparse']['mean_ms'] / saved['latency']['dense']['mean_ms'])


def test_verify_tool_checks_a_file_against_its_checkpoint(export_tool, verify_tool, checkpoint,
                                                          tmp_path, capsys):
    out = tmp_path / 'neck.onnx'
    export_tool.main([CONFIG, checkpoint, '--sparsity', 'uniform-0.5', '--shape', '96', '96',
                      '--with-neck', '--out', str(out)])
    assert 'exporting the backbone and neck' in capsys.readouterr().out
    result = verify_tool.main([CONFIG, checkpoint, str(out), '--sparsity', 'uniform-0.5',
                               *QUICK])
    assert result['parts'] == 'backbone+neck'
    assert all(a['kept_identical'] and a['max_abs_diff'] <= 1e-4 for a in result['agreement'])
    with pytest.raises(SystemExit, match=r'^error: .*neck.onnx was exported for sparsity '
                       r'\[0.5, 0.5, 0.5, 0.5\], not \[0.6, 0.6, 0.6, 0.6\]'):
        run(verify_tool, [CONFIG, checkpoint, str(out), '--sparsity', 'uniform-0.6'])


def test_bad_input_ends_with_one_line(export_tool, tmp_path, monkeypatch):
    out = str(tmp_path / 'x.onnx')
    with pytest.raises(SystemExit, match='^error: sparsity .*outside'):
        run(export_tool, [CONFIG, '--sparsity', '[1.5, 0, 0, 0]', '--shape', '64', '64',
                          '--out', out])
    with pytest.raises(SystemExit, match='^error: input shape must be positive'):
        run(export_tool, [CONFIG, '--sparsity', 'dense', '--shape', '0', '64', '--out', out])
    import importlib.util
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, 'find_spec',
                        lambda name, *a: None if name == 'onnx' else real(name, *a))
    with pytest.raises(SystemExit, match=r"^error: onnx is not installed; install the "
                       r"deployment extra: pip install -e '\.\[deploy\]'$"):
        run(export_tool, [CONFIG, '--sparsity', 'dense', '--shape', '64', '64', '--out', out])
