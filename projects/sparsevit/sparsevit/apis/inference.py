"""Inference for users: a model at a chosen sparsity, run on images.

    model = init_model(config, checkpoint, sparsity=[0.6, 0, [0.2, 0.2, 0.4, 0.4, 0.5, 0.5], 0])
    model = init_model(config, checkpoint, latency_budget_ms=35, search_dir='work_dirs/.../search')
    results = inference(model, ['demo.jpg'])                      # mmdet, mmseg
    results = inference(model, dataset_sample(model, index=0))    # BEVDet: six cameras

mmdet detectors and mmseg segmentors run through their codebase's own ``init_*``
and ``inference_*`` APIs; BEVDet (mmdet3d) takes a multi-camera sample in mmdet3d's
info format (``images``: per camera ``img_path``, ``cam2img``, ``lidar2cam``), e.g.
one of the config's test dataset from :func:`dataset_sample`. Preprocessing is the
config's test pipeline.
"""
import copy
from pathlib import Path
from typing import Optional, Sequence, Union

import torch
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import DATASETS, DefaultScope
from torch import nn

from ..checkpoint_loading import clear_checkpoint_errors
from ..model_sparsity import set_sparsity
from ..sparsity import SparsityLike
from ..utils.config import task_of, unknown_types_as_config_errors
from .search_results import select_from_search


def init_model(config: Union[str, Config], checkpoint: Optional[str] = None,
               sparsity: SparsityLike = None, *, latency_budget_ms: Optional[float] = None,
               search_dir: Optional[Union[str, Path]] = None, prefer: str = 'accuracy',
               device: str = 'cpu') -> nn.Module:
    """Build a model from ``config``, load ``checkpoint`` and set its sparsity.

    The sparsity is ``sparsity`` when given; else, with ``latency_budget_ms``
    and ``search_dir``, a searched configuration that fits the budget (see
    :func:`select_from_search`); else the config's own. A file that is not a readable
    checkpoint stops with :class:`~sparsevit.CheckpointError`, a config of another
    codebase or with a ``type=`` that names nothing registered with
    :class:`~sparsevit.utils.ConfigError`.
    """
    cfg = Config.fromfile(config) if isinstance(config, str) else config
    if sparsity is None and latency_budget_ms is not None:
        if search_dir is None:
            raise ValueError('latency_budget_ms needs search_dir, the work dir of tools/search.py')
        sparsity = select_from_search(search_dir, latency_budget_ms, prefer)['sparsity']
    scope = task_of(cfg)
    if scope == 'mmdet':
        from mmdet.apis import init_detector as init_task_model
    elif scope == 'mmseg':
        from mmseg.apis import init_model as init_task_model
    else:
        from mmdet3d.apis import init_model as init_task_model
    with clear_checkpoint_errors(), unknown_types_as_config_errors(cfg):
        model = init_task_model(cfg, checkpoint, device=device)
    if sparsity is not None:
        set_sparsity(model, sparsity)
    return model


def _test_dataset(model_or_config: Union[nn.Module, str, Config]):
    """The config's test dataset, built in the config's scope."""
    cfg = model_or_config.cfg if isinstance(model_or_config, nn.Module) else model_or_config
    cfg = Config.fromfile(cfg) if isinstance(cfg, str) else cfg
    with DefaultScope.overwrite_default_scope(task_of(cfg)):
        return DATASETS.build(cfg.test_dataloader.dataset)


class SampleIndexError(IndexError):
    """A sample index outside the config's test dataset."""


def _check_index(dataset, index: int) -> int:
    if not 0 <= index < len(dataset):
        raise SampleIndexError(f'sample {index} is outside the test dataset of {len(dataset)} '
                               f'samples (0 to {len(dataset) - 1})')
    return index


def dataset_sample(model_or_config: Union[nn.Module, str, Config], index: int = 0) -> dict:
    """Sample ``index`` of the config's test dataset, as its pipeline takes it (paths joined
    with the data root): the input of :func:`inference` for a BEVDet model."""
    dataset = _test_dataset(model_or_config)
    sample = dataset.get_data_info(_check_index(dataset, index))
    for key in ('box_type_3d', 'box_mode_3d'):  # what mmdet3d datasets add before the pipeline
        if hasattr(dataset, key):
            sample[key] = getattr(dataset, key)
    return sample


def dataset_batch(model_or_config: Union[nn.Module, str, Config],
                  indices: Sequence[int]) -> dict:
    """Samples of the config's test dataset through its test pipeline, collated as the test
    dataloader does: a batch for ``model.test_step``."""
    dataset = _test_dataset(model_or_config)
    return pseudo_collate([dataset[_check_index(dataset, i)] for i in indices])


def prepare_sample(model: nn.Module, sample: dict) -> dict:
    """One multi-camera sample through the config's test pipeline (not yet collated); boxes
    are in the LiDAR frame unless the sample says otherwise."""
    from mmdet3d.structures import Box3DMode, LiDARInstance3DBoxes

    sample = dict(copy.deepcopy(sample))
    sample.setdefault('box_type_3d', LiDARInstance3DBoxes)
    sample.setdefault('box_mode_3d', Box3DMode.LIDAR)
    with DefaultScope.overwrite_default_scope(task_of(model.cfg)):
        return Compose(model.cfg.test_dataloader.dataset.pipeline)(sample)


def inference(model: nn.Module, inputs):
    """Run ``model`` (from :func:`init_model`) at its sparsity.

    Args:
        inputs: mmdet / mmseg: image files or arrays, one or a list. mmdet3d
            (BEVDet): a multi-camera sample dict, or a list of them.
    """
    scope = task_of(model.cfg)
    if scope == 'mmdet':
        from mmdet.apis import inference_detector
        return inference_detector(model, inputs)
    if scope == 'mmseg':
        from mmseg.apis import inference_model
        return inference_model(model, inputs)
    samples = inputs if isinstance(inputs, (list, tuple)) else [inputs]
    with torch.no_grad():
        results = model.test_step(pseudo_collate([prepare_sample(model, s) for s in samples]))
    return results if isinstance(inputs, (list, tuple)) else results[0]
