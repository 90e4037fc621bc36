"""Which windows the sparse backbone kept, per stage, drawn over the input image."""
from pathlib import Path
from typing import Optional, Union

import numpy as np
import torch
from matplotlib import patches
from matplotlib.figure import Figure
from torch import nn

from ..fileio import save_figure
from ..model_sparsity import sparse_backbones


def _image_pipeline(cfg) -> list:
    """The config's test pipeline without loading annotations (mmdet and mmseg configs)."""
    from mmdet.utils import get_test_pipeline_cfg  # finds the pipeline in wrapped datasets too

    return [step for step in get_test_pipeline_cfg(cfg.copy())
            if not step['type'].endswith('LoadAnnotations')]


def record_windows(model: nn.Module, image_path: str) -> tuple[np.ndarray, list]:
    """Run ``model``'s test pipeline and backbone on one image; return the network input
    (RGB, as the backbone saw it before normalisation) and the per-stage window records."""
    from mmengine.dataset import Compose

    pipeline = Compose(_image_pipeline(model.cfg))
    data = pipeline(dict(img_path=image_path, img_id=0))
    batch = model.data_preprocessor(dict(inputs=[data['inputs']],
                                         data_samples=[data['data_samples']]), False)
    backbone = sparse_backbones(model)[0]
    backbone.window_log = []
    try:
        with torch.no_grad():
            backbone(batch['inputs'])
        records = backbone.window_log[0]
    finally:
        backbone.window_log = None
    image = data['inputs'].permute(1, 2, 0).numpy()[..., ::-1]  # mmcv loads BGR
    return np.ascontiguousarray(image), records


def _deepest_regular(stage_records: list) -> Optional[dict]:
    """The most pruned W-MSA block of a stage (its kept set is inside all shallower ones)."""
    regular = [r for r in stage_records if not r['shifted'] and r['kept'] is not None]
    return regular[-1] if regular else None


def draw_windows(image: np.ndarray, records: list, patch_size: int, window: int,
                 out_file: Union[str, Path], title: str = '') -> None:
    """One panel per stage: kept windows outlined, pruned ones dimmed."""
    fig = Figure(figsize=(3.2 * len(records), 3.6), dpi=110)
    axes = fig.subplots(1, len(records))
    for stage, (ax, stage_records) in enumerate(zip(np.atleast_1d(axes), records)):
        ax.imshow(image)
        ax.set_axis_off()
        block = _deepest_regular(stage_records)
        rows, cols = stage_records[0]['rows'], stage_records[0]['cols']
        size = window * patch_size * 2**stage  # input pixels per window side
        kept = set(range(rows * cols)) if block is None else set(block['kept'][0].tolist())
        for w in range(rows * cols):
            y, x = divmod(w, cols)
            rect = dict(xy=(x * size - 0.5, y * size - 0.5), width=size, height=size)
            if w in kept:
                ax.add_patch(patches.Rectangle(**rect, fill=False, edgecolor='yellow', lw=1.2))
            else:
                ax.add_patch(patches.Rectangle(**rect, color='black', alpha=0.6, lw=0))
        ratio = 0.0 if block is None else block['ratio']
        ax.set_title(f'stage {stage}: {len(kept)}/{rows * cols} windows kept (r={ratio:g})',
                     fontsize=8)
        ax.set_xlim(-0.5, image.shape[1] - 0.5)
        ax.set_ylim(image.shape[0] - 0.5, -0.5)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    save_figure(fig, out_file)


def visualize_windows(model: nn.Module, image_path: str, out_file: Union[str, Path],
                      title: str = '') -> None:
    """Record and draw the kept windows of ``model`` (a detector or segmentor) on one image."""
    image, records = record_windows(model, image_path)
    backbone = sparse_backbones(model)[0]
    draw_windows(image, records, backbone.patch_embed.projection.kernel_size[0],
                 backbone.stages[0].blocks[0].attn.window_size, out_file, title)
