"""Which windows the sparse backbone of a task model keeps on an image or a multi-camera
sample: the records of one forward through the model's test pipeline, and the kept window
ids of a stage."""
from typing import Optional, Union

import numpy as np
import torch
from mmengine.dataset import pseudo_collate
from torch import nn

from ..model_sparsity import sparse_backbones
from ..utils.config import task_of


def _image_pipeline(cfg) -> list:
    """The config's test pipeline without loading annotations (mmdet and mmseg configs)."""
    from mmdet.utils import get_test_pipeline_cfg  # finds the pipeline in wrapped datasets too

    return [step for step in get_test_pipeline_cfg(cfg.copy())
            if not step['type'].endswith('LoadAnnotations')]


def _as_rgb(images: torch.Tensor) -> list[np.ndarray]:
    """``(N, 3, H, W)`` network inputs (BGR, as mmcv loads them) as RGB uint8 ``(H, W, 3)``."""
    images = images.float().clamp(0, 255).to(torch.uint8)
    return [np.ascontiguousarray(img.permute(1, 2, 0).numpy()[..., ::-1]) for img in images]


def _network_inputs(model: nn.Module, source: Union[str, dict]) -> tuple[torch.Tensor, list]:
    """The backbone's input batch for ``source`` and the images as the backbone saw them."""
    if task_of(model.cfg) == 'mmdet3d':  # a multi-camera sample: (1, N, 3, H, W) -> N images
        from ..apis.inference import prepare_sample

        data = prepare_sample(model, source)
        batch = model.data_preprocessor(pseudo_collate([data]), False)
        return batch['inputs']['imgs'].flatten(0, 1), _as_rgb(data['inputs']['img'])
    from mmengine.dataset import Compose

    data = Compose(_image_pipeline(model.cfg))(dict(img_path=source, img_id=0))
    batch = model.data_preprocessor(dict(inputs=[data['inputs']],
                                         data_samples=[data['data_samples']]), False)
    return batch['inputs'], _as_rgb(data['inputs'][None])


def record_windows(model: nn.Module, source: Union[str, dict]) -> tuple[list[np.ndarray], list]:
    """Run ``model``'s test pipeline and backbone on an image path (mmdet, mmseg) or a
    multi-camera sample (BEVDet, see :func:`sparsevit.apis.dataset_sample`); return the
    images as the backbone saw them (RGB, before normalisation) and the per-stage records."""
    inputs, images = _network_inputs(model, source)
    backbone = sparse_backbones(model)[0]
    with torch.no_grad(), backbone.recording_windows() as forwards:
        backbone(inputs)
    return images, forwards[0]


def deepest_pruned_block(stage_records: list) -> Optional[dict]:
    """The record of the most pruned W-MSA block of a stage (its kept set is inside all
    shallower ones); None when no regular block of the stage pruned."""
    regular = [r for r in stage_records if not r['shifted'] and r['kept'] is not None]
    return regular[-1] if regular else None


def kept_window_ids(stage_records: list, image_index: int = 0) -> list[int]:
    """Row-major ids of the windows a recorded stage kept for one image of the batch."""
    block = deepest_pruned_block(stage_records)
    if block is None:
        return list(range(stage_records[0]['rows'] * stage_records[0]['cols']))
    return block['kept'][image_index].tolist()
