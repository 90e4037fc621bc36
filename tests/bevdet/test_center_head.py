"""BEVDetCenterHead: CenterHead's predictions by default, BEVDet's per-task and Scale-NMS."""
import pytest
import torch
from mmdet3d.registry import MODELS
from mmdet3d.structures import LiDARInstance3DBoxes
from mmengine.config import Config
from mmengine.registry import init_default_scope

import sparsevit.bevdet  # noqa: F401  registers BEVDetCenterHead

from ..helpers import BEVDET_CONFIG

TASKS = Config.fromfile(str(BEVDET_CONFIG)).tasks  # BEVDet-Tiny's six task groups

LIMITS = [-61.2, -61.2, -10.0, 61.2, 61.2, 10.0]
META = dict(box_type_3d=LiDARInstance3DBoxes)


def head_cfg(head_type: str = 'BEVDetCenterHead', **nms) -> dict:
    """A small CenterHead on a 32-channel, 32x32 BEV map with the given test-time NMS."""
    return dict(
        type=head_type, in_channels=32, tasks=TASKS, share_conv_channel=16,
        common_heads=dict(reg=(2, 2), height=(1, 2), dim=(3, 2), rot=(2, 2), vel=(2, 2)),
        bbox_coder=dict(type='CenterPointBBoxCoder', pc_range=[-51.2, -51.2],
                        post_center_range=LIMITS, max_num=60, score_threshold=0.0,
                        out_size_factor=8, voxel_size=[0.4, 0.4], code_size=9),
        separate_head=dict(type='SeparateHead', init_bias=-2.19, final_kernel=3),
        norm_bbox=True,
        test_cfg=dict(post_center_limit_range=LIMITS, max_per_img=60, max_pool_nms=False,
                      min_radius=[4, 12, 10, 1, 0.85, 0.175], score_threshold=0.1,
                      out_size_factor=8, voxel_size=[0.4, 0.4], pre_max_size=100,
                      post_max_size=30, **nms))


def build(head_type: str = 'BEVDetCenterHead', **nms):
    init_default_scope('mmdet3d')
    torch.manual_seed(0)
    return MODELS.build(head_cfg(head_type, **nms)).eval()


def boxes(*centres_and_sizes) -> dict:
    """A decoded task output: boxes at (x, y) of size (w, l), scores falling in order given."""
    rows = [[x, y, 0.0, w, l, 1.5, 0.0, 0.0, 0.0] for x, y, w, l in centres_and_sizes]
    n = len(rows)
    return dict(bboxes=torch.tensor(rows), scores=torch.linspace(0.9, 0.5, n),
                labels=torch.zeros(n, dtype=torch.long))


def test_rotate_nms_without_rescaling_predicts_what_centerhead_predicts():
    ours = build(nms_type='rotate', nms_thr=0.2)
    stock = build('CenterHead', nms_type='rotate', nms_thr=0.2)
    stock.load_state_dict(ours.state_dict())
    with torch.no_grad():
        preds = ours([torch.randn(2, 32, 32, 32)])
        expected = stock.predict_by_feat(preds, [META, META])
        got = ours.predict_by_feat(preds, [META, META])
    assert sum(len(r.scores_3d) for r in got) > 10  # enough boxes for NMS to matter
    for a, b in zip(got, expected):
        torch.testing.assert_close(a.bboxes_3d.tensor, b.bboxes_3d.tensor)
        torch.testing.assert_close(a.scores_3d, b.scores_3d)
        assert torch.equal(a.labels_3d, b.labels_3d)


def test_scale_nms_suppresses_small_neighbours_and_keeps_the_predicted_size():
    cones = boxes((10.0, 10.0, 0.4, 0.4), (10.5, 10.1, 0.4, 0.4))  # 0.5 m apart: no overlap
    plain = build(nms_type='rotate', nms_thr=0.5)
    assert len(plain.suppress(5, cones, META)['scores']) == 2
    scaled = build(nms_type='rotate', nms_thr=0.5,
                   nms_rescale_factor=[1.0, 1.0, 1.0, 1.0, 1.0, [1.0, 9.0]])
    cones['labels'][:] = 1  # traffic_cone in the pedestrian / traffic_cone group
    kept = scaled.suppress(5, cones, META)
    assert kept['scores'].tolist() == [pytest.approx(0.9)]
    assert kept['bboxes'][0, 3:5].tolist() == pytest.approx([0.4, 0.4])
    pedestrians = dict(cones, labels=torch.zeros(2, dtype=torch.long))  # factor 1.0
    assert len(scaled.suppress(5, pedestrians, META)['scores']) == 2


def test_each_task_group_uses_its_own_nms_type_and_threshold():
    head = build(nms_type=['rotate', 'rotate', 'rotate', 'circle', 'rotate', 'rotate'],
                 nms_thr=[0.2, 0.2, 0.2, 0.2, 0.2, 0.9])
    barriers = boxes((0.0, 0.0, 3.0, 0.3), (0.0, 0.6, 3.0, 0.3), (5.0, 0.0, 3.0, 0.3))
    # circle NMS (min_radius 1, a squared distance): centres within 1 m of a better one go
    assert len(head.suppress(3, barriers, META)['scores']) == 2
    cars = boxes((0.0, 0.0, 4.0, 2.0), (0.5, 0.0, 4.0, 2.0))  # IoU 0.78
    assert len(head.suppress(0, cars, META)['scores']) == 1  # threshold 0.2
    assert len(head.suppress(5, cars, META)['scores']) == 2  # threshold 0.9


def test_boxes_outside_the_centre_range_are_dropped():
    head = build(nms_type='rotate', nms_thr=0.2)
    kept = head.suppress(0, boxes((0.0, 0.0, 4.0, 2.0), (70.0, 0.0, 4.0, 2.0)), META)
    assert kept['bboxes'][:, 0].tolist() == [0.0]


@pytest.mark.parametrize('nms, message', [
    (dict(nms_type='rotate', nms_thr=[0.2] * 5),
     r'test_cfg.nms_thr has 5 entries for 6 task groups'),
    (dict(nms_type=['rotate'] * 5 + ['square'], nms_thr=0.2),
     r"nms_type of task group 5 is 'square'; expected one of \('rotate', 'circle'\)"),
    (dict(nms_type='rotate', nms_thr=0.2, nms_rescale_factor=[1.0, [0.7, 0.7, 0.7], 1, 1, 1, 1]),
     r"nms_rescale_factor of task group 1 \['truck', 'construction_vehicle'\] has 3 factors "
     r'for 2 classes'),
    (dict(nms_type='rotate'), r'test_cfg.nms_thr is missing for task group 0'),
])
def test_malformed_nms_settings_are_named(nms, message):
    with pytest.raises(ValueError, match=message):
        build(**nms)
