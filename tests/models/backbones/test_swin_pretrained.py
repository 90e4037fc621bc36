import logging

import pytest
import torch
from mmdet.models.backbones import SwinTransformer

from sparsevit import SparseSwinTransformer
from sparsevit.models.backbones.swin_pretrained import load_swin_pretrained

from .reference import randomize_


def save_mmdet_checkpoint(path, backbone, prefix='backbone.'):
    state = {prefix + k: v for k, v in backbone.state_dict().items()}
    state['neck.lateral_convs.0.conv.weight'] = torch.zeros(1)  # a detector has more
    torch.save({'meta': {'mmdet_version': '3.3.0'}, 'state_dict': state}, path)


def build(tiny_swin_kwargs, checkpoint, **extra):
    backbone = SparseSwinTransformer(
        **tiny_swin_kwargs, init_cfg=dict(type='Pretrained', checkpoint=str(checkpoint)), **extra)
    backbone.init_weights()
    return backbone


def test_loads_an_mmdet_swin_detector_checkpoint(tmp_path, tiny_swin_kwargs):
    dense = randomize_(SwinTransformer(**tiny_swin_kwargs))
    save_mmdet_checkpoint(tmp_path / 'mask_rcnn.pth', dense)
    sparse = build(tiny_swin_kwargs, tmp_path / 'mask_rcnn.pth')
    for name, value in dense.state_dict().items():
        assert torch.equal(sparse.state_dict()[name], value), name
    images = torch.randn(1, 3, 64, 64)
    dense.eval()
    with torch.no_grad():
        for a, b in zip(dense(images), sparse.eval()(images)):
            torch.testing.assert_close(a, b, rtol=0, atol=1e-5)


def test_loads_bare_and_ddp_saved_state_dicts(tmp_path, tiny_swin_kwargs):
    dense = randomize_(SwinTransformer(**tiny_swin_kwargs))
    torch.save({'module.' + k: v for k, v in dense.state_dict().items()}, tmp_path / 'ddp.pth')
    sparse = build(tiny_swin_kwargs, tmp_path / 'ddp.pth')
    assert torch.equal(sparse.stages[2].blocks[1].ffn.layers[1].weight,
                       dense.stages[2].blocks[1].ffn.layers[1].weight)


def test_classification_checkpoint_without_output_norms_warns(tmp_path, tiny_swin_kwargs, caplog):
    dense = SwinTransformer(**tiny_swin_kwargs)
    state = {k: v for k, v in dense.state_dict().items() if not k.startswith('norm')}
    state['head.weight'] = torch.zeros(10, 192)
    torch.save(state, tmp_path / 'cls.pth')
    sparse = SparseSwinTransformer(**tiny_swin_kwargs)
    with caplog.at_level(logging.INFO, logger='sparsevit-test'):
        load_swin_pretrained(sparse, str(tmp_path / 'cls.pth'), convert_weights=False,
                             logger=logging.getLogger('sparsevit-test'))
    assert 'left at their init: norm0.weight' in caplog.text
    assert 'ignored keys that the backbone does not have: head.weight' in caplog.text
    assert torch.equal(sparse.patch_embed.projection.weight, dense.patch_embed.projection.weight)


def test_resizes_bias_tables_of_another_window_size(tmp_path, tiny_swin_kwargs):
    dense = SwinTransformer(**dict(tiny_swin_kwargs, window_size=7))
    torch.save(dense.state_dict(), tmp_path / 'w7.pth')
    sparse = build(tiny_swin_kwargs, tmp_path / 'w7.pth')
    assert sparse.stages[0].blocks[0].attn.w_msa.relative_position_bias_table.shape == (49, 1)


def test_unrelated_checkpoint_is_rejected(tmp_path, tiny_swin_kwargs):
    torch.save({'state_dict': {'conv1.weight': torch.zeros(3)}}, tmp_path / 'resnet.pth')
    with pytest.raises(ValueError, match=r'holds no parameter of a Swin backbone .*conv1.weight'):
        build(tiny_swin_kwargs, tmp_path / 'resnet.pth')


def test_checkpoint_missing_parameters_is_rejected(tmp_path, tiny_swin_kwargs):
    state = SwinTransformer(**tiny_swin_kwargs).state_dict()
    del state['stages.1.blocks.0.attn.w_msa.qkv.weight']
    torch.save(state, tmp_path / 'partial.pth')
    with pytest.raises(ValueError, match=r'lacks 1 backbone parameters: stages.1.blocks.0.attn'):
        build(tiny_swin_kwargs, tmp_path / 'partial.pth')


def test_checkpoint_of_another_size_is_rejected(tmp_path, tiny_swin_kwargs):
    torch.save(SwinTransformer(**dict(tiny_swin_kwargs, embed_dims=32)).state_dict(),
               tmp_path / 'wide.pth')
    with pytest.raises(RuntimeError,
                       match=r'(?s)wide.pth does not fit SparseSwinTransformer.*size mismatch'):
        build(tiny_swin_kwargs, tmp_path / 'wide.pth')


def test_missing_file_is_reported(tmp_path, tiny_swin_kwargs):
    with pytest.raises(FileNotFoundError, match='nowhere.pth'):
        build(tiny_swin_kwargs, tmp_path / 'nowhere.pth')
