"""mmdet3d's ``CenterHead`` with BEVDet's test-time NMS: per-task NMS type and threshold, and
Scale-NMS (box sizes rescaled per class before the rotated NMS)."""
import torch
from mmdet3d.models.dense_heads import CenterHead
from mmdet3d.models.layers import circle_nms, nms_bev
from mmdet3d.registry import MODELS
from mmdet3d.structures import xywhr2xyxyr
from mmengine.structures import InstanceData
from torch import Tensor

NMS_TYPES = ('rotate', 'circle')


@MODELS.register_module()
class BEVDetCenterHead(CenterHead):
    """``CenterHead`` whose ``test_cfg`` may set the NMS of each task group.

    ``nms_type`` ('rotate' or 'circle'), ``nms_thr`` and ``nms_rescale_factor`` each take one
    value for every task group or a list with one entry per group; an entry of
    ``nms_rescale_factor`` is one factor for the group or a list with one per class. Scale-NMS
    multiplies a box's size by its class's factor for the rotated NMS only, so that small
    classes (cones, pedestrians) whose boxes barely overlap still suppress each other and large
    ones do not over-suppress; the kept boxes keep their predicted size. With 'rotate' and
    factor 1 everywhere it predicts exactly what ``CenterHead`` predicts. Training is unchanged.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.test_cfg is not None:
            self.task_nms = self._task_nms_settings(self.test_cfg)

    def _task_nms_settings(self, test_cfg: dict) -> list[dict]:
        """``test_cfg``'s NMS settings as one dict per task group; a clear error if malformed."""
        num_tasks = len(self.num_classes)

        def per_task(key: str, default) -> list:
            value = test_cfg.get(key, default)
            if not isinstance(value, (list, tuple)):
                return [value] * num_tasks
            if len(value) != num_tasks:
                raise ValueError(f'test_cfg.{key} has {len(value)} entries for {num_tasks} task '
                                 f'groups {self.class_names}: give one value or one per group')
            return list(value)

        settings = []
        for task_id, (nms_type, thr, factor) in enumerate(zip(
                per_task('nms_type', 'rotate'), per_task('nms_thr', None),
                per_task('nms_rescale_factor', 1.0))):
            if nms_type not in NMS_TYPES:
                raise ValueError(f'test_cfg.nms_type of task group {task_id} is {nms_type!r}; '
                                 f'expected one of {NMS_TYPES}')
            if nms_type == 'rotate' and thr is None:
                raise ValueError(f'test_cfg.nms_thr is missing for task group {task_id} '
                                 '(rotated NMS)')
            num_class = self.num_classes[task_id]
            factors = factor if isinstance(factor, (list, tuple)) else [factor] * num_class
            if len(factors) != num_class:
                raise ValueError(
                    f'test_cfg.nms_rescale_factor of task group {task_id} '
                    f'{self.class_names[task_id]} has {len(factors)} factors for {num_class} '
                    'classes')
            settings.append(dict(type=nms_type, thr=thr, factors=[float(f) for f in factors]))
        return settings

    def predict_by_feat(self, preds_dicts: tuple[list[dict]], batch_input_metas: list[dict],
                        *args, **kwargs) -> list[InstanceData]:
        """Decoded, per-task suppressed boxes of every sample, labels over all classes."""
        per_task = [[self.suppress(task_id, decoded, meta)
                     for decoded, meta in zip(self.decode(task_id, preds[0]), batch_input_metas)]
                    for task_id, preds in enumerate(preds_dicts)]
        first_labels = [sum(self.num_classes[:t]) for t in range(len(self.num_classes))]
        results = []
        for i, meta in enumerate(batch_input_metas):
            kept = [task[i] for task in per_task]
            boxes = torch.cat([k['bboxes'] for k in kept])
            boxes[:, 2] = boxes[:, 2] - boxes[:, 5] * 0.5  # gravity centre to bottom centre
            instances = InstanceData()
            instances.bboxes_3d = meta['box_type_3d'](boxes, self.bbox_coder.code_size)
            instances.scores_3d = torch.cat([k['scores'] for k in kept])
            instances.labels_3d = torch.cat(
                [k['labels'] + first for k, first in zip(kept, first_labels)]).int()
            results.append(instances)
        return results

    def decode(self, task_id: int, preds: dict) -> list[dict]:
        """Top-scoring boxes (gravity centre), scores and in-task labels of each sample."""
        dim = torch.exp(preds['dim']) if self.norm_bbox else preds['dim']
        return self.bbox_coder.decode(
            preds['heatmap'].sigmoid(), preds['rot'][:, 0:1], preds['rot'][:, 1:2],
            preds['height'], dim, preds.get('vel'), reg=preds['reg'], task_id=task_id)

    def suppress(self, task_id: int, decoded: dict, meta: dict) -> dict:
        """Score threshold, the task's NMS and the centre range applied to one sample's boxes."""
        boxes, scores, labels = decoded['bboxes'], decoded['scores'], decoded['labels'].long()
        confident = scores >= self.test_cfg['score_threshold']
        boxes, scores, labels = boxes[confident], scores[confident], labels[confident]
        keep = self._nms_keep(task_id, boxes, scores, labels, meta)
        boxes, scores, labels = boxes[keep], scores[keep], labels[keep]
        limits = boxes.new_tensor(self.test_cfg['post_center_limit_range'])
        inside = ((boxes[:, :3] >= limits[:3]) & (boxes[:, :3] <= limits[3:])).all(1)
        return dict(bboxes=boxes[inside], scores=scores[inside], labels=labels[inside])

    def _nms_keep(self, task_id: int, boxes: Tensor, scores: Tensor, labels: Tensor,
                  meta: dict) -> Tensor:
        """Indices kept by the task's NMS, best first."""
        nms = self.task_nms[task_id]
        post_max_size = self.test_cfg['post_max_size']
        if len(scores) == 0:
            return torch.zeros(0, dtype=torch.long, device=scores.device)
        if nms['type'] == 'circle':
            centres = torch.cat([boxes[:, :2], scores[:, None]], dim=1).detach().cpu().numpy()
            kept = circle_nms(centres, self.test_cfg['min_radius'][task_id], post_max_size)
            return torch.as_tensor(kept, dtype=torch.long, device=scores.device)
        scaled = boxes.clone()
        scaled[:, 3:6] *= boxes.new_tensor(nms['factors'])[labels][:, None]
        bev = meta['box_type_3d'](scaled, self.bbox_coder.code_size).bev
        return nms_bev(xywhr2xyxyr(bev), scores, thresh=nms['thr'],
                       pre_max_size=self.test_cfg['pre_max_size'], post_max_size=post_max_size)
