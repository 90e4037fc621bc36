"""Which windows the sparse backbone kept, per stage, drawn over its input images.

One row per image: the single image of a detector or segmentor, or the six camera
images of a BEVDet sample; one column per stage. The records are those of
:func:`sparsevit.analysis.record_windows`.
"""
from pathlib import Path
from typing import Sequence, Union

import numpy as np
from matplotlib import patches
from matplotlib.figure import Figure
from torch import nn

from ..analysis.kept_windows import deepest_pruned_block, kept_window_ids, record_windows
from ..fileio import save_figure
from ..model_sparsity import sparse_backbones


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
            block = deepest_pruned_block(stage_records)
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
