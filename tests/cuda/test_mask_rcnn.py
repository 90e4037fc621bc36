"""Mask R-CNN with the sparse backbone on CUDA, with mmcv's compiled RoIAlign and NMS: an SAA
training iteration whose gradients reach every parameter, and tools/train.py with ``--amp`` and
activation checkpointing."""
from types import SimpleNamespace

import pytest
import torch
from mmdet.registry import MODELS
from mmdet.testing import demo_mm_inputs
from mmdet.utils import register_all_modules
from mmengine.config import Config
from mmengine.logging import MessageHub, MMLogger
from mmengine.registry import HOOKS

from sparsevit import SparsityAdaptationHook, get_sparsity
from sparsevit.demo.synthetic_coco import generate_coco

from ..e2e.helpers import mask_rcnn_demo_config
from ..helpers import REPO, load_tool
from .marks import MMCV_OPS_DEVICES, mmcv_ops_missing

pytestmark = pytest.mark.cuda

DEMO_SAA = REPO / 'configs' / 'demo' / 'mask-rcnn_swin-mini-p4-w7_fpn_saa_demo-coco.py'
# at 256 x 480 the last stage has 2 x 3 windows: every block keeps at least one at any ratio
# of the demo's choices (<= 0.8), so every backbone parameter takes part
IMAGE_SHAPE = (3, 256, 480)


def saa_hook(cfg: Config, model) -> SparsityAdaptationHook:
    """The config's SAA hook, set up for ``model`` as a runner would."""
    hook = HOOKS.build(next(h for h in cfg.custom_hooks if h.type == 'SparsityAdaptationHook'))
    runner = SimpleNamespace(model=model, seed=0, iter=0, logger=MMLogger.get_current_instance(),
                             message_hub=MessageHub.get_current_instance())
    hook.before_run(runner)
    hook.before_train_iter(runner, batch_idx=0)
    return hook


@pytest.mark.parametrize('device', MMCV_OPS_DEVICES)
def test_saa_iteration_gradients_reach_every_parameter(device):
    register_all_modules()
    cfg = Config.fromfile(DEMO_SAA)
    model = MODELS.build(cfg.model).to(device).train()
    hook = saa_hook(cfg, model)
    sparsity = get_sparsity(model)
    assert sparsity == hook.sample(0) and any(  # the hook applied a pruned configuration
        r > 0 for stage in sparsity for r in (stage if isinstance(stage, list) else [stage]))
    packed = demo_mm_inputs(batch_size=2, image_shapes=IMAGE_SHAPE, num_items=[3, 2],
                            num_classes=3, with_mask=True)
    data = model.data_preprocessor(packed, True)
    assert data['inputs'].device.type == device
    losses = model(**data, mode='loss')
    loss, log_vars = model.parse_losses(losses)
    assert {'loss_rpn_cls', 'loss_cls', 'loss_bbox', 'loss_mask'} <= set(log_vars)
    assert loss.device.type == device
    model.zero_grad()
    loss.backward()
    trained = {name: p for name, p in model.named_parameters() if p.requires_grad}
    missing = sorted(name for name, p in trained.items() if p.grad is None)
    assert missing == []
    assert all(torch.isfinite(p.grad).all() for p in trained.values())
    backbone_grads = [p.grad for name, p in trained.items() if name.startswith('backbone.')]
    assert all(g.abs().sum() > 0 for g in backbone_grads)


@pytest.fixture(scope='module')
def coco(tmp_path_factory):
    root = tmp_path_factory.mktemp('coco')
    generate_coco(root, num_train=4, num_val=2, image_size=(160, 160), seed=0)
    return root


@pytest.mark.skipif(bool(mmcv_ops_missing('cuda')), reason=mmcv_ops_missing('cuda') or 'runs')
def test_amp_training_with_activation_checkpointing(tmp_path, coco):
    """tools/train.py --amp: mmengine's AmpOptimWrapper, SAA, ``with_cp`` in every block."""
    config = mask_rcnn_demo_config(tmp_path / 'amp.py', 'mask-rcnn_sparse-swin-t-p4-w7_fpn_saa'
                                   '-1x_coco.py', coco, max_iters=2)
    train = load_tool('train')
    runner = train.build_runner(train.parse_args([
        str(config), '--work-dir', str(tmp_path / 'work'), '--amp',
        '--cfg-options', 'model.backbone.with_cp=True']))
    autocast_seen = []  # per backbone forward: (autocast on, training)
    runner.model.backbone.register_forward_hook(
        lambda module, args, out: autocast_seen.append((torch.is_autocast_enabled(),
                                                        module.training)))
    runner.train()
    assert type(runner.optim_wrapper).__name__ == 'AmpOptimWrapper'
    assert next(runner.model.parameters()).device.type == 'cuda'
    assert all(block.with_cp for stage in runner.model.backbone.stages for block in stage.blocks)
    # the two training iterations ran under autocast (validation follows the last one)
    assert [seen for seen in autocast_seen if seen[1]] == [(True, True)] * 2
    assert torch.isfinite(torch.tensor(runner.message_hub.get_scalar('train/loss').current()))
    assert (tmp_path / 'work' / 'iter_2.pth').is_file()
