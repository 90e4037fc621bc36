import random

import pytest
import torch
from mmengine.evaluator import BaseMetric
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch.utils.data import DataLoader

from sparsevit import (SearchSpace, SparseSwinTransformer, SparsityAdaptationHook, SparsityError,
                       get_sparsity)
from sparsevit.engine.hooks.sparsity_adaptation_hook import mean_ratio


class TinySparseModel(BaseModel):

    def __init__(self, sparsity=None):
        super().__init__()
        self.backbone = SparseSwinTransformer(
            embed_dims=24, depths=(2, 2, 4, 2), num_heads=(1, 2, 4, 8), window_size=4,
            sparsity=sparsity)
        self.seen = []

    def forward(self, inputs, data_samples=None, mode='tensor'):
        self.seen.append((mode, get_sparsity(self)))
        outs = self.backbone(torch.stack(inputs))
        if mode == 'loss':
            return {'loss': sum(o.mean() for o in outs)}
        return [dict(score=float(outs[-1].mean())) for _ in inputs]


class CountMetric(BaseMetric):

    def process(self, data_batch, data_samples):
        self.results.extend(data_samples)

    def compute_metrics(self, results):
        return dict(count=len(results))


def run(tmp_path, hook, sparsity=None, iters=3, **kwargs):
    def loader() -> DataLoader:
        return DataLoader([torch.randn(3, 64, 64) for _ in range(4)], batch_size=2,
                          collate_fn=lambda batch: dict(inputs=batch))

    runner = Runner(
        model=TinySparseModel(sparsity), work_dir=str(tmp_path), train_dataloader=loader(),
        val_dataloader=loader(), val_evaluator=[CountMetric()], val_cfg=dict(),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.0)),
        train_cfg=dict(by_epoch=False, max_iters=iters, val_interval=iters),
        custom_hooks=[hook], default_hooks=dict(checkpoint=None), **kwargs)
    runner.train()
    return runner


def test_samples_a_new_configuration_every_iteration_and_validates_fixed(tmp_path):
    runner = run(tmp_path, dict(type='SparsityAdaptationHook', seed=5), iters=4)
    seen = runner.model.seen
    train = [config for mode, config in seen if mode == 'loss']
    space = SearchSpace((2, 2, 4, 2))
    assert train == [space.to_sparsity(space.sample(random.Random(5 * 1_000_003 + i)))
                     for i in range(4)]
    assert len({str(c) for c in train}) > 1
    assert [config for mode, config in seen if mode != 'loss'] == [[0.0] * 4] * 2  # dense val
    assert get_sparsity(runner.model) == [0.0] * 4  # left at the evaluation configuration
    assert 0.0 <= runner.message_hub.get_scalar('train/sparsity').current() <= 0.8


def test_evaluates_with_the_configured_or_the_models_own_sparsity(tmp_path):
    named = run(tmp_path / 'a', dict(type='SparsityAdaptationHook', eval_sparsity=[0.5, 0, 0, 0]))
    assert [c for m, c in named.model.seen if m != 'loss'] == [[0.5, 0.0, 0.0, 0.0]] * 2
    own = run(tmp_path / 'b', dict(type='SparsityAdaptationHook'), sparsity=[0.3, 0.3, 0, 0])
    assert [c for m, c in own.model.seen if m != 'loss'] == [[0.3, 0.3, 0.0, 0.0]] * 2


def test_choices_grouping_and_runner_seed(tmp_path):
    runner = run(tmp_path, dict(type='SparsityAdaptationHook', choices=[0.0, 0.5],
                                grouping='stage'), randomness=dict(seed=11))
    hook = next(h for h in runner.hooks if isinstance(h, SparsityAdaptationHook))
    assert hook.seed == 11 and [g.name for g in hook.space.genes] == [
        'stage0', 'stage1', 'stage2', 'stage3']
    for mode, config in runner.model.seen:
        assert all(isinstance(stage, float) and stage in (0.0, 0.5) for stage in config)


def test_invalid_evaluation_sparsity_fails_before_training(tmp_path):
    with pytest.raises(SparsityError, match='3 stage entries'):
        run(tmp_path, dict(type='SparsityAdaptationHook', eval_sparsity=[0.5, 0, 0]))


def test_mean_ratio():
    assert mean_ratio(((0.5, 0.5), (0.0, 0.0, 0.0, 0.0))) == pytest.approx(1 / 6)
