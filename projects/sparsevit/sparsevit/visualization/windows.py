"""Which windows the sparse backbone kept, per stage, drawn over its input images.

One row per image: the single image of a detector or segmentor, or the six camera
images of a BEVDet sample; one column per stage.
"""
from pathlib import Path
from typing import Optional, Sequence, Union

import numpy as np
import torch
from matplotlib import patches
from matplotlib.figure import Figure
from mmengine.dataset import pseudo_collate
from torch import nn

from ..fileio import save_figure
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
    backbone.window_log = []
    try:
        with torch.no_grad():
            backbone(inputs)
        records = backbone.window_log[0]
    finally:
        backbone.window_log = None
    return images, records


def _deepest_regular(stage_records: list) -> Optional[dict]:
    """The most pruned W-MSA block of a stage (its kept set is inside all shallower ones)."""
    regular = [r for r in stage_records if not r['shifted'] and r['kept'] is not None]
    return regular[-1] if regular else None


def kept_window_ids(stage_records: list, image_index: int = 0) -> list[int]:
    """Row-major ids of the windows a recorded stage kept for one image of the batch."""
    block = _deepest_regular(stage_records)
    if block is None:
        return list(range(stage_records[0]['rows'] * stage_records[0]['cols']))
    return block['kept'][image_index].tolist()


def draw_windows(images: Union[np.ndarray, Sequence[np.ndarray]], records: list,
                 patch_size: int, window: int, out_file: Union[str, Path], title: str = '',
                 row_titles: Sequence[str] = (),
                 outlines: Sequence[Sequence[np.ndarray]] = ()) -> None:
    """One panel per image and stage: kept windows outlined, pruned ones dimmed.

    Args:
        images: one ``(H, W, 3)`` image, or one per image of the recorded batch.
        outlines: per image, object polygons ``(k, 2)`` in its pixels, drawn in cyan.
    """
    images = [images] if isinstance(images, np.ndarray) else list(images)
    row_height = 3.2 * images[0].shape[0] / images[0].shape[1] + 0.4  # panels 3.2 in wide
    fig = Figure(figsize=(3.2 * len(records), row_height * len(images) + 0.3), dpi=110)
    axes = np.array(fig.subplots(len(images), len(records))).reshape(len(images), len(records))
    for row, image in enumerate(images):
        for stage, (ax, stage_records) in enumerate(zip(axes[row], records)):
            ax.imshow(image)
            ax.set_axis_off()
            block = _deepest_regular(stage_records)
            rows, cols = stage_records[0]['rows'], stage_records[0]['cols']
            size = window * patch_size * 2**stage  # input pixels per window side
            kept = set(kept_window_ids(stage_records, row))
            for w in range(rows * cols):
                y, x = divmod(w, cols)
                rect = dict(xy=(x * size - 0.5, y * size - 0.5), width=size, height=size)
                if w in kept:
                    ax.add_patch(patches.Rectangle(**rect, fill=False, edgecolor='yellow',
                                                   lw=1.2))
                else:
                    ax.add_patch(patches.Rectangle(**rect, color='black', alpha=0.6, lw=0))
            for polygon in outlines[row] if row < len(outlines) else ():
                ax.add_patch(patches.Polygon(polygon - 0.5, closed=True, fill=False,
                                             edgecolor='cyan', lw=1.0))
            ratio = 0.0 if block is None else block['ratio']
            label = f'{row_titles[row]}, ' if row < len(row_titles) else ''
            ax.set_title(f'{label}stage {stage}: {len(kept)}/{rows * cols} windows kept '
                         f'(r={ratio:g})', fontsize=8)
            ax.set_xlim(-0.5, image.shape[1] - 0.5)
            ax.set_ylim(image.shape[0] - 0.5, -0.5)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    save_figure(fig, out_file)


def visualize_windows(model: nn.Module, source: Union[str, dict], out_file: Union[str, Path],
                      title: str = '', outlines: Sequence[Sequence[np.ndarray]] = ()) -> None:
    """Record and draw the kept windows of ``model`` on an image or a multi-camera sample
    (``outlines``: object polygons per image, in the pixels the backbone saw)."""
    images, records = record_windows(model, source)
    backbone = sparse_backbones(model)[0]
    cameras = list(source.get('images', {})) if isinstance(source, dict) else []
    draw_windows(images, records, backbone.patch_embed.projection.kernel_size[0],
                 backbone.stages[0].blocks[0].attn.window_size, out_file, title, cameras,
                 outlines)
