"""SparsityAdaptationHook samples a configuration per iteration, reproducibly, inside the space."""
import uuid

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


def run(tmp_path, hook, sparsity=None, iters=3, checkpoint=None, **kwargs):
    def loader() -> DataLoader:
        return DataLoader([torch.randn(3, 64, 64) for _ in range(4)], batch_size=2,
                          collate_fn=lambda batch: dict(inputs=batch))

    runner = Runner(
        model=TinySparseModel(sparsity), work_dir=str(tmp_path), train_dataloader=loader(),
        experiment_name=uuid.uuid4().hex,  # runners of one second would share a visualizer
        val_dataloader=loader(), val_evaluator=[CountMetric()], val_cfg=dict(),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.0)),
        train_cfg=dict(by_epoch=False, max_iters=iters, val_interval=iters),
        custom_hooks=[hook], default_hooks=dict(checkpoint=checkpoint), **kwargs)
    runner.train()
    return runner


def trained(runner) -> list:
    """The configurations the model trained with, one per iteration."""
    return [config for mode, config in runner.model.seen if mode == 'loss']


def test_samples_a_new_configuration_every_iteration_and_validates_fixed(tmp_path):
    runner = run(tmp_path, dict(type='SparsityAdaptationHook', seed=5), iters=4)
    train = trained(runner)
    assert len(train) == 4 and len({str(c) for c in train}) > 1
    space = SearchSpace((2, 2, 4, 2))
    for config in train:  # a point of the space: choices only, non-decreasing inside a stage
        point = space.from_sparsity(config)
        assert space.repair(point) == point and space.to_sparsity(point) == config
    assert [config for mode, config in runner.model.seen if mode != 'loss'] == [[0.0] * 4] * 2
    assert get_sparsity(runner.model) == [0.0] * 4  # left at the evaluation configuration
    assert 0.0 <= runner.message_hub.get_scalar('train/sparsity').current() <= 0.8


def test_the_same_seed_repeats_the_sequence_and_another_seed_changes_it(tmp_path):
    first = trained(run(tmp_path / 'a', dict(type='SparsityAdaptationHook', seed=5), iters=4))
    again = trained(run(tmp_path / 'b', dict(type='SparsityAdaptationHook', seed=5), iters=4))
    other = trained(run(tmp_path / 'c', dict(type='SparsityAdaptationHook', seed=6), iters=4))
    assert again == first and other != first


def test_a_resumed_run_continues_the_sequence(tmp_path):
    hook = dict(type='SparsityAdaptationHook', seed=5)
    every_2 = dict(type='CheckpointHook', by_epoch=False, interval=2)
    whole = trained(run(tmp_path / 'whole', hook, iters=4, checkpoint=every_2))
    resumed = run(tmp_path / 'resumed', hook, iters=4,
                  load_from=str(tmp_path / 'whole' / 'iter_2.pth'), resume=True)
    assert trained(resumed) == whole[2:]


def test_every_gene_takes_every_choice(tmp_path):
    runner = run(tmp_path, dict(type='SparsityAdaptationHook', choices=[0.0, 0.4, 0.8], seed=1),
                 iters=1)
    hook = next(h for h in runner.hooks if isinstance(h, SparsityAdaptationHook))
    points = [hook.space.from_sparsity(hook.sample(i)) for i in range(300)]
    for gene in range(len(hook.space.genes)):
        assert {point[gene] for point in points} == {0.0, 0.4, 0.8}


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
