"""The nuScenes-format data as the devkit, mmdet3d's converter, dataset and metric see it."""
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from mmdet3d.datasets import NuScenesDataset
from mmdet3d.evaluation import NuScenesMetric
from mmdet3d.structures import Det3DDataSample, LiDARInstance3DBoxes
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData
from nuscenes.nuscenes import NuScenes

from sparsevit.datasets import check_dataset_files
from sparsevit.demo.synthetic_nuscenes import (CAMERAS, VAL_SCENES, generate_nuscenes,
                                               write_nuscenes_infos)

CAMERA_PREFIXES = {channel: f'samples/{channel}' for channel in CAMERAS}


@pytest.fixture(scope='module')
def nus(tmp_path_factory):
    root = tmp_path_factory.mktemp('nuscenes')
    generate_nuscenes(root, samples_per_scene=2, objects_per_scene=8, image_size=(90, 160))
    write_nuscenes_infos(root)
    return root


def val_dataset(root, pipeline=()):
    init_default_scope('mmdet3d')
    return NuScenesDataset(
        data_root=str(root), ann_file='nuscenes_infos_val.pkl', pipeline=list(pipeline),
        data_prefix=dict(pts='samples/LIDAR_TOP', sweeps='sweeps/LIDAR_TOP', **CAMERA_PREFIXES),
        modality=dict(use_camera=True, use_lidar=False), test_mode=True, box_type_3d='LiDAR',
        metainfo=dict(version='v1.0-mini'))  # NuScenesDataset assumes trainval otherwise


def test_devkit_loads_the_tables(nus):
    nusc = NuScenes(version='v1.0-mini', dataroot=str(nus), verbose=False)
    assert len(nusc.scene) == 10 and len(nusc.sample) == 20
    sample = nusc.sample[0]
    assert set(sample['data']) == {'LIDAR_TOP', *CAMERAS}
    annotation = nusc.get('sample_annotation', sample['anns'][0])
    assert annotation['num_lidar_pts'] > 0
    assert np.isfinite(nusc.box_velocity(annotation['token'])).all()  # two key frames
    path, boxes, intrinsic = nusc.get_sample_data(sample['data']['CAM_FRONT'])
    assert intrinsic.shape == (3, 3)


def test_converter_infos_feed_the_real_dataset_and_multiview_loading(nus):
    dataset = val_dataset(nus, [dict(type='LoadMultiViewImageFromFiles', to_float32=True,
                                     num_views=6)])
    assert len(dataset) == 2 * len(VAL_SCENES)
    assert dataset.metainfo['version'] == 'v1.0-mini'
    sample = dataset[0]
    assert len(sample['img']) == 6 and sample['img'][0].shape == (90, 160, 3)
    assert np.asarray(sample['lidar2cam']).shape == (6, 4, 4)
    assert np.asarray(sample['cam2img']).shape[0] == 6


def test_boxes_are_drawn_where_the_cameras_see_them(nus):
    """The converter's camera parameters project a box centre onto its class colour."""
    dataset = val_dataset(nus, [dict(type='LoadMultiViewImageFromFiles', num_views=6)])
    hits = 0
    for index in range(len(dataset)):
        info, sample = dataset.get_data_info(index), dataset[index]
        for box in info['instances']:
            centre = np.append(box['bbox_3d'][:3], 1.0)
            centre[2] += box['bbox_3d'][5] / 2  # mmdet3d boxes sit on their bottom face
            cameras = zip(sample['img'], sample['lidar2cam'], sample['cam2img'])
            for image, lidar2cam, cam2img in cameras:
                point = (np.asarray(lidar2cam) @ centre)[:3]
                if point[2] < 1:
                    continue
                u, v, _ = np.asarray(cam2img)[:3, :3] @ point / point[2]
                if 2 <= u < image.shape[1] - 2 and 2 <= v < image.shape[0] - 2:
                    pixel = image[int(v), int(u)].astype(int)
                    background = (np.abs(pixel - (95, 100, 100)).max() < 30 or
                                  np.abs(pixel - (200, 170, 130)).max() < 30)
                    hits += not background
    assert hits >= 3


def test_metric_scores_ground_truth_as_perfect(nus, tmp_path):
    dataset = val_dataset(nus)
    metric = NuScenesMetric(data_root=str(nus), ann_file=str(nus / 'nuscenes_infos_val.pkl'),
                            metric='bbox', jsonfile_prefix=str(tmp_path / 'results'))
    metric.dataset_meta = dataset.metainfo
    for index in range(len(dataset)):
        info = dataset.get_data_info(index)
        labelled = [b for b in info['instances'] if b['bbox_label_3d'] >= 0]
        boxes = np.array([b['bbox_3d'] + b['velocity'] for b in labelled], np.float32)
        sample = Det3DDataSample(metainfo=dict(sample_idx=info['sample_idx']))
        sample.pred_instances_3d = InstanceData(
            bboxes_3d=LiDARInstance3DBoxes(torch.from_numpy(boxes), box_dim=9),
            scores_3d=torch.ones(len(boxes)),
            labels_3d=torch.tensor([b['bbox_label_3d'] for b in labelled]))
        sample.pred_instances = InstanceData()  # no 2D predictions, as BEVDet's outputs
        metric.process({}, [sample.to_dict()])
    results = metric.evaluate(len(dataset))
    prefix = 'NuScenes metric/pred_instances_3d_NuScenes/'
    present = ('car', 'truck', 'pedestrian', 'bicycle', 'traffic_cone', 'barrier')
    for name in present:  # the devkit's own evaluation: perfect at the tightest threshold
        assert results[f'{prefix}{name}_AP_dist_0.5'] == pytest.approx(1.0)
        assert results[f'{prefix}{name}_trans_err'] == pytest.approx(0.0, abs=1e-3)
    # nuScenes averages over its 10 classes; the 4 the scenes do not contain score 0
    assert results[f'{prefix}mAP'] == pytest.approx(len(present) / 10)


def test_missing_camera_image_is_named(nus, tmp_path):
    broken = tmp_path / 'nuscenes'
    shutil.copytree(nus, broken)
    dataset = val_dataset(broken)
    info = dataset.get_data_info(1)
    victim = Path(info['images']['CAM_BACK_LEFT']['img_path'])
    victim.unlink()
    with pytest.raises(FileNotFoundError,
                       match=rf"NuScenesDataset: 1 files .*{victim.name} "
                             rf"\(sample {info['token']}, images.CAM_BACK_LEFT.img_path\)"):
        check_dataset_files(dataset)


def test_info_file_of_the_wrong_version_is_named(nus, tmp_path):
    import mmengine

    from sparsevit.bevdet import NuScenesV2Dataset
    v1 = tmp_path / 'nuscenes_infos_val_v1.pkl'
    mmengine.dump(dict(infos=[], metadata=dict(version='v1.0-mini')), str(v1))
    init_default_scope('mmdet3d')
    with pytest.raises(ValueError, match=rf'{v1} is not a v2 info file .*update_infos_to_v2'):
        NuScenesV2Dataset(data_root=str(nus), ann_file=str(v1), pipeline=[],
                          modality=dict(use_camera=True, use_lidar=False))


def test_command_line_tool(tmp_path):
    import subprocess
    import sys
    tool = Path(__file__).parents[2] / 'tools' / 'dataset_converters' / 'generate_demo_nuscenes.py'
    result = subprocess.run([sys.executable, str(tool), str(tmp_path / 'nus'),
                             '--samples-per-scene', '2', '--objects-per-scene', '3',
                             '--size', '64', '112'], check=True, capture_output=True, text=True)
    assert '16 train / 4 val samples' in result.stdout
    assert (tmp_path / 'nus' / 'nuscenes_infos_val.pkl').is_file()


@pytest.mark.parametrize('kwargs, message', [
    (dict(samples_per_scene=1), 'samples_per_scene must be >= 2'),
    (dict(image_size=(16, 64)), r'image_size must be \(height, width\), each >= 32'),
])
def test_bad_arguments(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        generate_nuscenes(tmp_path, **kwargs)
