"""ONNX export of the sparse backbone and its ONNX Runtime session (the ``deploy`` extra)."""
import json

import numpy as np
import onnx
import pytest
import torch
from mmdet.models.necks import FPN

from sparsevit import SparseSwinTransformer
from sparsevit.deployment import (DeploymentError, MissingDeployPackageError, OnnxBackbone,
                                  check_inputs, compare_with_pytorch, export_onnx, require_packages)

SPARSITY = [0.5, 0.3, [0.0, 0.2, 0.4, 0.5], 0.0]
SHAPE = (2, 3, 100, 132)  # both stage-0 sides need padding to window multiples


@pytest.fixture(scope='module')
def backbone():
    torch.manual_seed(0)
    model = SparseSwinTransformer(embed_dims=24, depths=(2, 2, 4, 2), num_heads=(1, 2, 4, 8),
                                  window_size=7, sparsity=SPARSITY)
    model.init_weights()
    return model.eval()


@pytest.fixture(scope='module')
def exported(backbone, tmp_path_factory):
    path = tmp_path_factory.mktemp('onnx') / 'sparse.onnx'
    metadata = export_onnx(backbone, path, *SHAPE[:1], *SHAPE[2:])
    return path, metadata


def normalization():
    return torch.tensor([123.675, 116.28, 103.53]).view(-1, 1, 1), \
        torch.tensor([58.395, 57.12, 57.375]).view(-1, 1, 1)


def test_export_records_configuration_shape_and_outputs(exported):
    path, metadata = exported
    assert metadata['sparsity'] == SPARSITY and metadata['input_shape'] == list(SHAPE)
    assert metadata['parts'] == 'backbone'
    # every block with a ratio > 0 reports its kept windows; stage 3 and block 0 of stage 2 prune
    # nothing
    assert metadata['outputs'] == [
        'features0', 'features1', 'features2', 'features3', 'kept_stage0_block0',
        'kept_stage0_block1', 'kept_stage1_block0', 'kept_stage1_block1', 'kept_stage2_block1',
        'kept_stage2_block2', 'kept_stage2_block3']
    model = onnx.load(str(path))
    onnx.checker.check_model(model)
    recorded = {prop.key: json.loads(prop.value) for prop in model.metadata_props}
    assert recorded['sparsevit.sparsity'] == SPARSITY
    assert recorded['sparsevit.input_shape'] == list(SHAPE)
    assert recorded['sparsevit.score_before_patch_norm'] is False
    assert not list(path.parent.glob('.*'))  # no temporary file left behind


@pytest.mark.parametrize('batch_seed', [0, 7])
def test_onnx_runtime_agrees_with_pytorch(backbone, exported, batch_seed):
    runtime = OnnxBackbone(exported[0])
    for name, images in check_inputs(SHAPE, *normalization(), seed=batch_seed).items():
        agreement = compare_with_pytorch(backbone, runtime, name, images)
        assert agreement.kept_identical, name
        assert agreement.max_abs_diff <= 1e-4, name
        assert agreement.passed()


def test_kept_windows_follow_each_image_inside_the_graph(exported):
    runtime = OnnxBackbone(exported[0])
    images = check_inputs(SHAPE, *normalization())['real-looking'].numpy()
    kept = runtime(images)['kept_stage0_block0']
    assert kept.shape == (2, 10)  # a 25x33 token map: 4x5 windows, half of them kept
    assert not np.array_equal(kept[0], kept[1])
    swapped = runtime(np.ascontiguousarray(images[::-1]))['kept_stage0_block0']
    np.testing.assert_array_equal(swapped, kept[::-1])


def test_stage0_scored_before_the_patch_norm_exports(backbone, tmp_path):
    backbone.score_before_patch_norm = True
    try:
        export_onnx(backbone, tmp_path / 'prenorm.onnx', 1, 64, 64)
        runtime = OnnxBackbone(tmp_path / 'prenorm.onnx')
        images = check_inputs((1, 3, 64, 64), *normalization())['real-looking']
        agreement = compare_with_pytorch(backbone, runtime, 'real-looking', images)
    finally:
        backbone.score_before_patch_norm = False
    assert agreement.kept_identical and agreement.passed()
    assert runtime.score_before_patch_norm is True
    runtime.check(score_before_patch_norm=True)
    with pytest.raises(DeploymentError, match='exported with score_before_patch_norm=True, '
                       'the model has False'):
        runtime.check(score_before_patch_norm=False)


def test_backbone_and_neck_export_agrees(backbone, tmp_path):
    neck = FPN(in_channels=[24, 48, 96, 192], out_channels=16, num_outs=5).eval()
    path = tmp_path / 'with_neck.onnx'
    metadata = export_onnx(backbone, path, 1, 64, 64, neck=neck)
    assert metadata['parts'] == 'backbone+neck'
    assert metadata['outputs'][:5] == [f'neck{i}' for i in range(5)]
    runtime = OnnxBackbone(path)
    images = check_inputs((1, 3, 64, 64), *normalization())['random']
    assert compare_with_pytorch(backbone, runtime, 'random', images, neck).passed()
    with pytest.raises(DeploymentError, match='holds the backbone\\+neck, not the backbone'):
        runtime.check(parts='backbone')


def test_session_refuses_what_the_file_was_not_made_for(backbone, exported):
    runtime = OnnxBackbone(exported[0])
    runtime.check(SPARSITY, backbone.depths, SHAPE)  # the file's own: accepted
    runtime.check([0.5, 0.3, [0, 0.2, 0.4, 0.5], 0], backbone.depths)  # same, other spelling
    with pytest.raises(DeploymentError, match='exported for sparsity .* not .*0.6'):
        runtime.check([0.6, 0.3, [0.0, 0.2, 0.4, 0.5], 0.0], backbone.depths)
    with pytest.raises(DeploymentError, match=r'exported for input \(2, 3, 100, 132\) \(B, C, H, '
                       r'W\), not \(1, 3, 100, 132\): export the backbone again for that input'):
        runtime(np.zeros((1, 3, 100, 132), dtype=np.float32))
    with pytest.raises(DeploymentError, match=r'not \(2, 3, 112, 132\)'):
        runtime(np.zeros((2, 3, 112, 132), dtype=np.float32))


def test_session_refuses_other_files(tmp_path):
    with pytest.raises(DeploymentError, match='no such file'):
        OnnxBackbone(tmp_path / 'missing.onnx')
    broken = tmp_path / 'broken.onnx'
    broken.write_bytes(b'not a protobuf at all')
    with pytest.raises(DeploymentError, match='broken.onnx is not a readable ONNX file'):
        OnnxBackbone(broken)
    plain = tmp_path / 'plain.onnx'
    tensor = onnx.helper.make_tensor_value_info
    graph = onnx.helper.make_graph(
        [onnx.helper.make_node('Identity', ['images'], ['out'])], 'identity',
        [tensor('images', onnx.TensorProto.FLOAT, [1, 3, 8, 8])],
        [tensor('out', onnx.TensorProto.FLOAT, [1, 3, 8, 8])])
    onnx.save(onnx.helper.make_model(graph, ir_version=8,
                                     opset_imports=[onnx.helper.make_opsetid('', 17)]),
              str(plain))
    with pytest.raises(DeploymentError, match='not written by tools/deployment/export_onnx.py'):
        OnnxBackbone(plain)


def test_missing_deploy_package_is_named(monkeypatch):
    import importlib.util
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, 'find_spec',
                        lambda name, *a: None if name == 'onnxruntime' else real(name, *a))
    with pytest.raises(DeploymentError, match=r"onnxruntime is not installed; install the "
                       r"deployment extra: pip install -e '\.\[deploy\]'"):
        require_packages('onnx', 'onnxruntime')
    with pytest.raises(ImportError) as missing:  # callers can tell it from bad input
        require_packages('onnxruntime')
    assert isinstance(missing.value, MissingDeployPackageError)
