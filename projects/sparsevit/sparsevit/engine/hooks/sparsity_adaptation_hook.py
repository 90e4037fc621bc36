"""Sparsity-aware adaptation (SAA): a new layerwise configuration every training iteration."""
import random
from typing import Optional, Sequence

from mmengine.dist import broadcast_object_list, get_rank
from mmengine.hooks import Hook
from mmengine.registry import HOOKS

from ...model_sparsity import get_search_space, get_sparsity, set_sparsity
from ...search_space import DEFAULT_CHOICES, SearchSpace
from ...sparsity import SparsityLike, StageSparsity, normalize_sparsity


def mean_ratio(per_block: Sequence[Sequence[float]]) -> float:
    """Average pruning ratio over all blocks."""
    ratios = [r for stage in per_block for r in stage]
    return sum(ratios) / len(ratios)


# Registered in mmengine's root registry, so mmdet, mmseg and mmdet3d configs find it.
@HOOKS.register_module()
class SparsityAdaptationHook(Hook):
    """Sample a sparsity configuration before every training iteration.

    The method is sparsity-aware adaptation, docs/method.md, section 4.

    Each gene takes a ratio uniformly from ``choices``; the genes of a stage
    are then sorted ascending. Rank 0 samples and broadcasts, so every
    data-parallel rank trains the same configuration in an iteration. The
    configuration of iteration ``i`` depends only on ``seed`` and ``i``, so a
    resumed run continues the same sequence. Validation and testing run with
    a fixed configuration.

    Args:
        choices: ratios a gene may take.
        grouping: blocks per gene: ``'pair'`` (the paper), ``'block'`` or ``'stage'``.
        seed: seed of the sampler; None takes the runner's seed.
        eval_sparsity: configuration for validation and testing; None keeps
            the one the model was built with (``model.backbone.sparsity``,
            dense unless the config says otherwise).
        log_interval: log the full configuration every this many iterations.
    """

    priority = 'NORMAL'

    def __init__(self, choices: Sequence[float] = DEFAULT_CHOICES, grouping: str = 'pair',
                 seed: Optional[int] = None, eval_sparsity: SparsityLike = None,
                 log_interval: int = 50):
        self.choices = tuple(choices)
        self.grouping = grouping
        self.seed = seed
        self.eval_sparsity = eval_sparsity
        self.log_interval = log_interval
        self.space: Optional[SearchSpace] = None

    def before_run(self, runner) -> None:
        self.space = get_search_space(runner.model, self.choices, self.grouping)
        if self.eval_sparsity is None:
            self.eval_sparsity = get_sparsity(runner.model)
        normalize_sparsity(self.eval_sparsity, self.space.depths)  # fail before training
        if self.seed is None:
            self.seed = runner.seed if runner.seed is not None else 0
        runner.logger.info(f'SparsityAdaptationHook: {self.space.num_configurations()} '
                           f'configurations of genes {[g.name for g in self.space.genes]}, '
                           f'choices {list(self.choices)}, seed {self.seed}; evaluation with '
                           f'{self.eval_sparsity}')

    def sample(self, iteration: int) -> list[StageSparsity]:
        """The configuration of training iteration ``iteration`` (0-based)."""
        rng = random.Random(self.seed * 1_000_003 + iteration)
        return self.space.to_sparsity(self.space.sample(rng))

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        config = [self.sample(runner.iter) if get_rank() == 0 else None]
        broadcast_object_list(config, src=0)
        set_sparsity(runner.model, config[0])
        per_block = normalize_sparsity(config[0], self.space.depths)
        runner.message_hub.update_info('sparsity', config[0])
        runner.message_hub.update_scalar('train/sparsity', mean_ratio(per_block))
        if self.every_n_train_iters(runner, self.log_interval) or runner.iter == 0:
            runner.logger.info(f'iter {runner.iter + 1}: training sparsity {config[0]}')

    def _apply_eval(self, runner, mode: str) -> None:
        set_sparsity(runner.model, self.eval_sparsity)
        runner.logger.info(f'{mode} with sparsity {self.eval_sparsity}')

    def before_val_epoch(self, runner) -> None:
        self._apply_eval(runner, 'validation')

    def before_test_epoch(self, runner) -> None:
        self._apply_eval(runner, 'testing')

    def after_train(self, runner) -> None:
        set_sparsity(runner.model, self.eval_sparsity)
