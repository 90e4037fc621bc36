"""What ``tools/test.py`` does with predictions, per task, as each task's own tool does it.

``--out``: mmdet's compact results (RLE masks, no ground truth) in a pickle; mmseg's
prediction maps as PNG files; mmdet3d's nuScenes result JSON. ``--show`` /
``--show-dir`` / ``--wait-time``: the config's visualization hook. ``--tta``: the
config's own test-time augmentation.
"""
from typing import Optional

from mmengine.config import Config, ConfigDict
from mmengine.evaluator import BaseMetric

from .config import task_of


def _evaluator_cfgs(cfg: Config) -> list:
    evaluator = cfg.test_evaluator
    return list(evaluator) if isinstance(evaluator, (list, tuple)) else [evaluator]


def dump_predictions(cfg: Config, out: str) -> Optional[BaseMetric]:
    """Make the test write its predictions to ``out`` in the task's own result format.

    mmseg and mmdet3d: the config's evaluator writes them (PNG prediction maps into
    the folder ``out``; the nuScenes JSON under the folder ``out``). mmdet: returns
    the metric to append to the built runner's evaluator (``out`` is a ``.pkl``).
    """
    task = task_of(cfg)
    if task == 'mmdet':
        if not out.endswith(('.pkl', '.pickle')):
            raise ValueError(f'--out of an mmdet config is a pickle file (.pkl), got {out}')
        from mmdet.evaluation import DumpDetResults
        return DumpDetResults(out_file_path=out)
    for evaluator in _evaluator_cfgs(cfg):
        if task == 'mmseg':
            evaluator['output_dir'] = out  # IoUMetric: one PNG of train ids per image
        else:
            evaluator['jsonfile_prefix'] = out  # NuScenesMetric: results_nusc.json
    return None


def show_predictions(cfg: Config, show: bool, show_dir: Optional[str],
                     wait_time: float) -> None:
    """Turn on the config's visualization hook: show in a window, and/or save into ``show_dir``
    (relative paths go below the run's log folder, as in mmdet)."""
    hook = cfg.get('default_hooks', {}).get('visualization')
    if hook is None:
        raise ValueError('--show / --show-dir need a visualization hook in the config\'s '
                         'default_hooks')
    hook['draw'] = True
    if task_of(cfg) == 'mmseg':
        hook['interval'] = 1  # SegVisualizationHook draws every interval-th test image
    if show:
        hook['show'], hook['wait_time'] = True, wait_time
    if show_dir:
        if task_of(cfg) == 'mmseg':  # SegVisualizationHook saves through the visualizer;
            # a visualizer of another name is a new instance, not one made earlier in the process
            cfg.visualizer.update(save_dir=show_dir, name=f'visualizer:{show_dir}')
        else:
            hook['test_out_dir'] = show_dir


def use_test_time_augmentation(cfg: Config) -> None:
    """Test through the config's ``tta_model`` on its ``tta_pipeline``."""
    missing = [key for key in ('tta_model', 'tta_pipeline') if key not in cfg]
    if missing:
        raise ValueError(f'--tta: the config defines no test-time augmentation (it lacks '
                         f'{" and ".join(missing)}); mmseg configs inherit them from mmseg\'s '
                         f'bases, Mask R-CNN and BEVDet configs have none')
    cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
    cfg.model = ConfigDict(**cfg.tta_model, module=cfg.model)
