"""Distributed runs on machines without CUDA (torchrun + gloo)."""
import torch
import torch.distributed as dist
from mmengine.config import Config


def setup_cpu_distributed(cfg: Config) -> None:
    """Make a ``--launcher pytorch`` run work where CUDA is absent.

    mmengine's launcher always selects a CUDA device; without one this joins
    the torchrun group over gloo first (mmengine then keeps it) and wraps the
    model for CPU data parallelism. Does nothing with CUDA or without a launcher.
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
