"""Distributed runs on machines without CUDA (torchrun + gloo)."""
from typing import Any

import torch
import torch.distributed as dist
from mmengine.config import Config
from mmengine.logging import print_log


def setup_cpu_distributed(cfg: Config) -> None:
    """Make a ``--launcher pytorch`` run work where CUDA is absent.

    mmengine's launcher always selects a CUDA device; without one this joins
    the torchrun group over gloo first (mmengine then keeps it) and wraps the
    model for CPU data parallelism. PyTorch's SyncBatchNorm trains on GPUs only,
    so ``SyncBN`` layers of the config become per-process ``BN`` (with a warning).
    Does nothing with CUDA or without a launcher.
    """
    if cfg.get('launcher', 'none') == 'none' or torch.cuda.is_available():
        return
    if not dist.is_initialized():
        dist.init_process_group('gloo')  # env:// from torchrun's RANK, WORLD_SIZE, MASTER_*
    wrapper = dict(cfg.get('model_wrapper_cfg') or dict(
        type='MMDistributedDataParallel',
        find_unused_parameters=cfg.get('find_unused_parameters', False)))
    wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper
    replaced = _local_batchnorm(cfg.model)
    if replaced:
        print_log(f'{replaced} SyncBN layer configs train as per-process BN: SyncBatchNorm '
                  'needs CUDA', logger='current', level=30)


def _local_batchnorm(node: Any) -> int:
    """Turn every ``type='SyncBN'`` under ``node`` into ``'BN'``; returns how many."""
    count = 0
    if isinstance(node, dict):
        if node.get('type') == 'SyncBN':
            node['type'] = 'BN'
            count += 1
        nodes = node.values()
    elif isinstance(node, (list, tuple)):
        nodes = node
    else:
        return 0
    return count + sum(_local_batchnorm(child) for child in nodes)
