"""Inference for users: a model at a chosen sparsity, run on images.

    model = init_model(config, checkpoint, sparsity=[0.6, 0, [0.2, 0.2, 0.4, 0.4, 0.5, 0.5], 0])
    model = init_model(config, checkpoint, latency_budget_ms=35, search_dir='work_dirs/.../search')
    results = inference(model, ['demo.jpg'])

Works for mmdet detectors and mmseg segmentors (their own ``init_*`` and
``inference_*`` APIs, so preprocessing is the config's test pipeline).
"""
from pathlib import Path
from typing import Optional, Sequence, Union

import numpy as np
from mmengine.config import Config
from torch import nn

from ..model_sparsity import set_sparsity
from ..sparsity import SparsityLike
from .search_results import select_from_search

ImageLike = Union[str, np.ndarray]


def _scope(cfg: Config) -> str:
    scope = cfg.get('default_scope')
    if scope not in ('mmdet', 'mmseg'):
        raise ValueError(f'inference supports mmdet and mmseg configs, this one has '
                         f'default_scope={scope!r}')
    return scope


def init_model(config: Union[str, Config], checkpoint: Optional[str] = None,
               sparsity: SparsityLike = None, *, latency_budget_ms: Optional[float] = None,
               search_dir: Optional[Union[str, Path]] = None, prefer: str = 'accuracy',
               device: str = 'cpu') -> nn.Module:
    """Build a model from ``config``, load ``checkpoint`` and set its sparsity.

    The sparsity is ``sparsity`` when given; else, with ``latency_budget_ms``
    and ``search_dir``, a searched configuration that fits the budget (see
    :func:`select_from_search`); else the config's own.
    """
    cfg = Config.fromfile(config) if isinstance(config, str) else config
    if sparsity is None and latency_budget_ms is not None:
        if search_dir is None:
            raise ValueError('latency_budget_ms needs search_dir, the work dir of tools/search.py')
        sparsity = select_from_search(search_dir, latency_budget_ms, prefer)['sparsity']
    if _scope(cfg) == 'mmdet':
        from mmdet.apis import init_detector
        model = init_detector(cfg, checkpoint, device=device)
    else:
        from mmseg.apis import init_model as init_segmentor
        model = init_segmentor(cfg, checkpoint, device=device)
    if sparsity is not None:
        set_sparsity(model, sparsity)
    return model


def inference(model: nn.Module, images: Union[ImageLike, Sequence[ImageLike]]):
    """Run ``model`` (from :func:`init_model`) on image files or arrays at its sparsity."""
    scope = _scope(model.cfg)
    if scope == 'mmdet':
        from mmdet.apis import inference_detector
        return inference_detector(model, images)
    from mmseg.apis import inference_model
    return inference_model(model, images)
