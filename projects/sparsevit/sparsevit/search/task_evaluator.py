"""Metric and backbone latency of sparsity configurations for any OpenMMLab task model.

The model, the validation dataloader and the evaluator come from the task
config through mmengine's Runner, so mmdet, mmseg and mmdet3d models are all
searched with their own metric (bbox mAP, mIoU, NDS). Under ``torchrun`` the
validation set is split across ranks; latency is measured on rank 0 and
broadcast, so every rank takes the same decisions.
"""
import itertools
import time
from pathlib import Path
from typing import Optional, Sequence

import torch
from mmengine.config import Config
from mmengine.dist import broadcast_object_list, get_rank
from mmengine.runner import Runner, load_checkpoint

from ..analysis.latency import BackboneTimer, LatencyProtocol
from ..checkpoint_loading import clear_checkpoint_errors
from ..latency_tables import TableLatency, architecture_of
from ..model_sparsity import get_search_space, set_sparsity, sparse_backbones
from ..search_space import SearchSpace
from .errors import CheckpointMismatch, MetricNotFound, NotSAACheckpoint

_EVALUATOR_NUMBERS = itertools.count()
SAA_MARKERS = ('SparsityAdaptationHook', 'random_sample = True')  # ours; the authors' mmdet 2.x


def _unwrap(model: torch.nn.Module) -> torch.nn.Module:
    return getattr(model, 'module', model)


def _experiment_name(cfg: Config) -> str:
    """A name of its own for an evaluator's runner. mmengine names a runner's logger and
    message hub by config and second, which two evaluators built in one second (the demo
    builds several) would otherwise share. (A visualizer that the config names itself, as
    mmdet's do, stays shared: its folders are those of the first runner.)"""
    stem = Path(cfg.filename).stem if cfg.filename else 'search'
    return f'{stem}_{time.strftime("%Y%m%d_%H%M%S")}_{next(_EVALUATOR_NUMBERS)}'


def check_saa_checkpoint(checkpoint: dict, path: str) -> None:
    """Raise :class:`NotSAACheckpoint` unless ``checkpoint`` was trained with sparsity-aware
    adaptation."""
    meta = checkpoint.get('meta') or {}
    text = str(meta.get('cfg', '')) + str(meta.get('config', ''))
    if not any(marker in text for marker in SAA_MARKERS):
        raise NotSAACheckpoint(
            f'{path} was not trained with sparsity-aware adaptation (its config has no '
            f'SparsityAdaptationHook): searching it would rank configurations by a model that '
            f'never saw them; fine-tune it with an SAA config (one whose custom_hooks include '
            f'SparsityAdaptationHook, like the configs named *saa*) first')


class TaskEvaluator:
    """Evaluates configurations of one trained model on (a subset of) its validation set.

    :meth:`latency` times a configuration live, on rank 0, under ``protocol``. With
    ``latency_table`` set, it predicts from that table (measured on the deployment
    target, or once before the search on a machine whose speed drifts) and times
    nothing; the table must have been measured for this backbone and the protocol's
    input shape and batch.
    """
    latency_table: Optional[TableLatency] = None

    def __init__(self, cfg: Config, checkpoint: str, metric_key: str,
                 val_size: Optional[int] = None, protocol: Optional[LatencyProtocol] = None,
                 require_saa: bool = True, latency_table: Optional[TableLatency] = None):
        cfg = cfg.copy()
        cfg.load_from = None
        cfg.custom_hooks = [h for h in cfg.get('custom_hooks', [])
                            if h.get('type') != 'SparsityAdaptationHook']
        if val_size is not None:
            cfg.val_dataloader.dataset.indices = val_size
        if cfg.get('experiment_name') is None:
            cfg.experiment_name = _experiment_name(cfg)
        self.runner = Runner.from_cfg(cfg)
        self.model = _unwrap(self.runner.model)
        try:
            with clear_checkpoint_errors():
                loaded = load_checkpoint(self.model, checkpoint, map_location='cpu',
                                         strict=True, logger=self.runner.logger)
        except RuntimeError as err:
            raise CheckpointMismatch(f'{checkpoint} is not a checkpoint of the model of this '
                                     f'config: {err}') from err
        if require_saa:
            check_saa_checkpoint(loaded, checkpoint)
        self.cfg, self.checkpoint = cfg, checkpoint
        self.metric_key, self.val_size = metric_key, val_size
        self.dataloader = self.runner.build_dataloader(cfg.val_dataloader)
        self.evaluator = self.runner.build_evaluator(cfg.val_evaluator)
        self.evaluator.dataset_meta = self.dataloader.dataset.metainfo
        self.protocol = protocol or LatencyProtocol()  # its device resolved now, not at import
        self._timer: Optional[BackboneTimer] = None
        self.latency_table = latency_table
        if latency_table is not None:
            latency_table.table.check_compatible(
                architecture_of(sparse_backbones(self.model)[0]),
                (self.protocol.height, self.protocol.width), self.protocol.batch)

    @property
    def latency_source(self):
        """What the latencies come from (the live protocol or the table): its ``describe()``
        and ``to_dict()`` name it in the search's log and outputs."""
        return self.protocol if self.latency_table is None else self.latency_table

    def search_space(self, choices: Sequence[float], grouping: str) -> SearchSpace:
        space = get_search_space(self.model, choices, grouping)
        if self.latency_table is not None:
            self.latency_table.table.check_compatible(choices=space.choices)
        return space

    @torch.no_grad()
    def metrics(self, sparsity) -> dict:
        """Every validation metric of the model under ``sparsity``."""
        set_sparsity(self.model, sparsity)
        self.runner.model.eval()
        for data_batch in self.dataloader:
            outputs = self.runner.model.val_step(data_batch)
            self.evaluator.process(data_samples=outputs, data_batch=data_batch)
        return self.evaluator.evaluate(len(self.dataloader.dataset))

    def metric(self, sparsity) -> float:
        """The validation metric ``metric_key`` of the model under ``sparsity``."""
        metrics = self.metrics(sparsity)
        if not metrics:  # e.g. mmdet's CocoMetric when the model detected nothing at all
            self.runner.logger.warning(f'the evaluator produced no metrics under {sparsity}: '
                                       f'{self.metric_key} scored 0')
            return 0.0
        if self.metric_key not in metrics:
            raise MetricNotFound(f'the evaluator produced no metric {self.metric_key!r}; it '
                                 f'produced {sorted(metrics)}')
        return float(metrics[self.metric_key])

    def _latency_timer(self) -> BackboneTimer:
        if self._timer is None:  # a copy of the backbone on the latency device, in its dtype
            self._timer = BackboneTimer(sparse_backbones(self.model)[0], self.protocol)
        return self._timer

    def latencies(self, configs: dict, warmup: Optional[int] = None,
                  runs: Optional[int] = None) -> dict[str, float]:
        """Backbone latency (ms) of named configurations, timed round-robin in one run.

        Measured on rank 0 and broadcast, so every rank gets the same numbers;
        ``warmup`` and ``runs`` override the protocol's.
        """
        values = [None]
        if get_rank() == 0:
            results = self._latency_timer().time(configs, warmup=warmup, runs=runs)
            values[0] = {name: r.mean_ms for name, r in results.items()}
        broadcast_object_list(values, src=0)
        return values[0]

    def latency(self, sparsity) -> float:
        """Backbone latency (ms) under ``sparsity``: predicted where ``latency_table`` is set,
        else timed (see the class docstring)."""
        if self.latency_table is not None:
            return self.latency_table.latency(sparsity)
        return self.latencies({'candidate': sparsity})['candidate']
