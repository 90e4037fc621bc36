"""Pictures of BEVDet predictions: 3D boxes on the six camera images and in a bird's-eye view.

``BEVDetVisualizationHook`` is the visualization hook of the BEVDet configs:
``tools/test.py --show-dir DIR`` (or ``--show``) draws, for every test sample, the
predicted boxes (red, with their score) and the true ones (green) projected into
each camera image, and both from above in the LiDAR frame.
"""
import os.path as osp
from typing import Optional, Sequence

import mmcv
import numpy as np
from matplotlib import patches
from matplotlib.figure import Figure
from mmdet3d.registry import HOOKS
from mmengine.hooks import Hook
from mmengine.visualization import Visualizer

from ..fileio import save_figure

# corner order of mmdet3d's boxes (x, y, z bits 000, 001, 011, 010, 100, 101, 111, 110)
BOX_EDGES = ((0, 3), (3, 7), (7, 4), (4, 0), (1, 2), (2, 6), (6, 5), (5, 1),
             (0, 1), (3, 2), (7, 6), (4, 5))
BOTTOM = (0, 3, 7, 4)
CAMERA_GRID = {  # camera -> (row, column) of the 2 x 3 grid, as a driver would see them
    'CAM_FRONT_LEFT': (0, 0), 'CAM_FRONT': (0, 1), 'CAM_FRONT_RIGHT': (0, 2),
    'CAM_BACK_LEFT': (1, 0), 'CAM_BACK': (1, 1), 'CAM_BACK_RIGHT': (1, 2)}
PRED, TRUE = 'tab:red', 'tab:green'


def project(corners: np.ndarray, lidar2cam: np.ndarray,
            cam2img: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pixels ``(N, 8, 2)`` of box corners ``(N, 8, 3)`` in the LiDAR frame, and which lie in
    front of the camera ``(N, 8)``."""
    points = np.concatenate([corners, np.ones_like(corners[..., :1])], -1) @ lidar2cam.T
    depth = points[..., 2]
    pixels = points[..., :3] @ np.asarray(cam2img)[:3, :3].T
    return pixels[..., :2] / np.maximum(depth, 1e-6)[..., None], depth > 0.1


def _camera_name(path: str, index: int) -> str:
    name = next((part for part in reversed(path.split(osp.sep)) if part in CAMERA_GRID), None)
    return name or list(CAMERA_GRID)[index % len(CAMERA_GRID)]


def render_sample(images: Sequence[np.ndarray], image_paths: Sequence[str],
                  lidar2cam: np.ndarray, cam2img: np.ndarray, pred_corners: np.ndarray,
                  pred_scores: np.ndarray, true_corners: Optional[np.ndarray],
                  bev_range: float = 51.2, title: str = '') -> Figure:
    """A figure of the six cameras (2 x 3) and the bird's-eye view, boxes drawn on all."""
    fig = Figure(figsize=(16, 6.2), dpi=90)
    grid = fig.add_gridspec(2, 4, width_ratios=[1, 1, 1, 1.05])
    boxes = [(pred_corners, PRED)] + ([(true_corners, TRUE)] if true_corners is not None else [])
    for index, (image, path) in enumerate(zip(images, image_paths)):
        ax = fig.add_subplot(grid[CAMERA_GRID[_camera_name(path, index)]])
        ax.imshow(image)
        ax.set_title(_camera_name(path, index), fontsize=8)
        ax.set_axis_off()
        for corners, colour in boxes:
            pixels, front = project(corners, lidar2cam[index], cam2img[index])
            for box_pixels, box_front in zip(pixels, front):
                for a, b in BOX_EDGES:
                    if box_front[a] and box_front[b]:
                        ax.plot(*box_pixels[[a, b]].T, color=colour, linewidth=0.9)
        ax.set_xlim(0, image.shape[1])
        ax.set_ylim(image.shape[0], 0)
    bev = fig.add_subplot(grid[:, 3])
    for corners, colour in boxes:  # screen: x (forward) up, y (left) to the left
        for box in corners[:, BOTTOM, :2]:
            bev.add_patch(patches.Polygon(np.stack([-box[:, 1], box[:, 0]], 1), closed=True,
                                          fill=False, edgecolor=colour, linewidth=1.0))
    for corners, score in zip(pred_corners[:, BOTTOM, :2], pred_scores):
        bev.text(-corners[:, 1].mean(), corners[:, 0].mean(), f'{score:.2f}', color=PRED,
                 fontsize=5)
    bev.plot([0], [0], marker='^', color='black')  # the ego vehicle, facing forward
    bev.set_xlim(-bev_range, bev_range)
    bev.set_ylim(-bev_range, bev_range)
    bev.set_aspect('equal')
    bev.set_title(f'bird\'s-eye view ({len(pred_corners)} predicted, red; '
                  f'{0 if true_corners is None else len(true_corners)} true, green)', fontsize=8)
    bev.grid(alpha=0.3)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig


def figure_to_rgb(fig: Figure) -> np.ndarray:
    """The rendered figure as an ``(H, W, 3)`` uint8 RGB array."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


@HOOKS.register_module()
class BEVDetVisualizationHook(Hook):
    """Draw the predicted and true 3D boxes of every test sample (cameras and bird's-eye view).

    Args:
        draw: draw at all (``tools/test.py --show`` / ``--show-dir`` turn it on).
        score_thr: predictions with a lower score are not drawn.
        show: show each picture in a window for ``wait_time`` seconds.
        test_out_dir: save the pictures here, as ``<sample token>.png``; a relative
            path goes below the run's log folder (``work_dir/<timestamp>``).
    """

    def __init__(self, draw: bool = False, score_thr: float = 0.3, show: bool = False,
                 wait_time: float = 0.0, test_out_dir: Optional[str] = None):
        self.draw, self.score_thr, self.show = draw, score_thr, show
        self.wait_time, self.test_out_dir = wait_time, test_out_dir

    def before_test(self, runner) -> None:
        if self.draw and self.test_out_dir is not None:
            self.test_out_dir = osp.join(runner.work_dir, runner.timestamp, self.test_out_dir)

    def after_test_iter(self, runner, batch_idx: int, data_batch: dict,
                        outputs: Sequence) -> None:
        if not self.draw:
            return
        for sample in outputs:
            meta = sample.metainfo
            pred = sample.pred_instances_3d
            keep = (pred.scores_3d >= self.score_thr).cpu().numpy()
            truth = (sample.get('eval_ann_info') or {}).get('gt_bboxes_3d')
            if 'filename' not in meta:
                raise KeyError("BEVDetVisualizationHook needs the camera images' paths: add "
                               "'filename' to the meta_keys of Pack3DDetInputs")
            images = [mmcv.imread(path, channel_order='rgb') for path in meta['filename']]
            name = str(meta.get('token', meta.get('sample_idx', batch_idx)))
            fig = render_sample(
                images, meta['filename'], np.asarray(meta['lidar2cam']),
                np.asarray(meta['cam2img']), pred.bboxes_3d.corners.cpu().numpy()[keep],
                pred.scores_3d.cpu().numpy()[keep],
                None if truth is None else truth.corners.cpu().numpy(), title=name)
            if self.test_out_dir is not None:
                save_figure(fig, osp.join(self.test_out_dir, f'{name}.png'))
            if self.show:
                Visualizer.get_current_instance().show(figure_to_rgb(fig), win_name=name,
                                                       wait_time=self.wait_time)
