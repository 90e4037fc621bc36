"""A small nuScenes-format multi-camera dataset drawn from 3D boxes (devkit tables + files).

Scenes of the nuScenes ``v1.0-mini`` split names (so the devkit's own split lists
and detection evaluation apply) with an ego vehicle driving along x at 2 Hz key
frames, and cars, trucks, pedestrians, bicycles, barriers and traffic cones,
parked or moving. Every key frame has a LiDAR sweep (points sampled inside the
boxes and on the ground, so ``num_lidar_pts`` is true) and six camera images
rendered from the boxes with the calibrated camera model. The files::

    root/v1.0-mini/{category,attribute,visibility,instance,sensor,calibrated_sensor,
                    ego_pose,log,scene,sample,sample_data,sample_annotation,map}.json
    root/samples/CAM_*/<token>.jpg, root/samples/LIDAR_TOP/<token>.pcd.bin, root/maps/*.png

:func:`write_nuscenes_infos` then runs mmdet3d's own converter to write
``nuscenes_infos_{train,val}.pkl`` (v2 format).
"""
import math
import uuid
from pathlib import Path
from typing import Sequence, Union

import cv2
import numpy as np
from pyquaternion import Quaternion

from ..fileio import dump_json

VERSION = 'v1.0-mini'
TRAIN_SCENES = ('scene-0061', 'scene-0553', 'scene-0655', 'scene-0757', 'scene-0796',
                'scene-1077', 'scene-1094', 'scene-1100')
VAL_SCENES = ('scene-0103', 'scene-0916')
# nuScenes category -> (size w, l, h in metres, BGR colour, attribute when moving / parked, speed)
CATEGORIES = {
    'vehicle.car': ((1.9, 4.5, 1.6), (40, 40, 220), ('vehicle.moving', 'vehicle.parked'), 6.0),
    'vehicle.truck': ((2.5, 8.0, 3.2), (30, 160, 230), ('vehicle.moving', 'vehicle.parked'), 4.0),
    'human.pedestrian.adult': ((0.7, 0.7, 1.8), (200, 60, 40),
                               ('pedestrian.moving', 'pedestrian.standing'), 1.2),
    'vehicle.bicycle': ((0.6, 1.8, 1.2), (190, 50, 190),
                        ('cycle.with_rider', 'cycle.without_rider'), 3.0),
    'movable_object.barrier': ((2.5, 0.5, 1.0), (230, 230, 230), (None, None), 0.0),
    'movable_object.trafficcone': ((0.4, 0.4, 1.0), (0, 120, 255), (None, None), 0.0),
}
ATTRIBUTES = ('vehicle.moving', 'vehicle.parked', 'vehicle.stopped', 'pedestrian.moving',
              'pedestrian.standing', 'pedestrian.sitting_lying_down', 'cycle.with_rider',
              'cycle.without_rider')
# channel -> (yaw of the optical axis in the ego frame, degrees; position x, y in metres)
CAMERAS = {
    'CAM_FRONT': (0.0, (1.7, 0.0)), 'CAM_FRONT_RIGHT': (-55.0, (1.5, -0.5)),
    'CAM_FRONT_LEFT': (55.0, (1.5, 0.5)), 'CAM_BACK': (180.0, (0.0, 0.0)),
    'CAM_BACK_LEFT': (110.0, (1.0, 0.5)), 'CAM_BACK_RIGHT': (-110.0, (1.0, -0.5)),
}
CAMERA_HEIGHT, FOCAL_AT_1600 = 1.5, 1266.0
LIDAR_TRANSLATION = (0.94, 0.0, 1.84)
LIDAR_ROTATION = Quaternion(axis=(0, 0, 1), angle=-math.pi / 2)  # as nuScenes: x points right
EGO_SPEED, FRAME_TIME, FIRST_TIMESTAMP = 5.0, 0.5, 1533151603547590
POINTS_PER_OBJECT = 40


def _token(rng: np.random.Generator) -> str:
    return uuid.UUID(bytes=rng.bytes(16)).hex


def _quat(yaw: float) -> list:
    return list(Quaternion(axis=(0, 0, 1), angle=yaw).elements)


def _box_corners(center: np.ndarray, wlh: Sequence[float], yaw: float) -> np.ndarray:
    """(8, 3) corners: the 4 of the bottom face, then the 4 of the top face."""
    w, l, h = wlh
    x = np.array([1, 1, -1, -1, 1, 1, -1, -1]) * l / 2
    y = np.array([1, -1, -1, 1, 1, -1, -1, 1]) * w / 2
    z = np.array([-1, -1, -1, -1, 1, 1, 1, 1]) * h / 2
    cos, sin = math.cos(yaw), math.sin(yaw)
    return np.stack([cos * x - sin * y, sin * x + cos * y, z], 1) + center


FACES = ((0, 1, 2, 3), (4, 5, 6, 7), (0, 1, 5, 4), (1, 2, 6, 5), (2, 3, 7, 6), (3, 0, 4, 7))


class _Camera:
    """One calibrated camera: intrinsics and the camera-to-ego transform."""

    def __init__(self, yaw_deg: float, xy: Sequence[float], image_size: Sequence[int]):
        height, width = image_size
        focal = FOCAL_AT_1600 * width / 1600
        self.intrinsic = np.array([[focal, 0, width / 2], [0, focal, height / 2], [0, 0, 1]])
        yaw = math.radians(yaw_deg)
        forward = np.array([math.cos(yaw), math.sin(yaw), 0.0])
        right = np.array([math.sin(yaw), -math.cos(yaw), 0.0])
        self.rotation = np.stack([right, [0, 0, -1.0], forward], 1)  # camera axes in ego
        self.translation = np.array([xy[0], xy[1], CAMERA_HEIGHT])
        self.size = (height, width)

    def to_camera(self, points_ego: np.ndarray) -> np.ndarray:
        return (points_ego - self.translation) @ self.rotation

    def render(self, rng: np.random.Generator, objects_ego: list) -> np.ndarray:
        """A BGR image: sky, textured ground, boxes with shaded faces (far to near)."""
        height, width = self.size
        v, u = np.mgrid[:height, :width]
        rays = np.stack([u, v, np.ones_like(u)], -1) @ np.linalg.inv(self.intrinsic).T
        down = (rays @ self.rotation.T)[..., 2] < 0
        image = np.empty((height, width, 3))
        image[:] = (200, 170, 130)  # sky
        image[down] = (95, 100, 100)  # ground
        image += rng.normal(0, 5, image.shape)
        for center, wlh, yaw, colour in sorted(objects_ego, key=lambda o: -np.linalg.norm(o[0])):
            corners = self.to_camera(_box_corners(center, wlh, yaw))
            if (corners[:, 2] < 0.5).any():
                continue  # partly behind the camera: not drawn
            pixels = corners @ self.intrinsic.T
            pixels = pixels[:, :2] / pixels[:, 2:]
            depth_order = sorted(FACES, key=lambda f: -corners[list(f), 2].mean())
            for shade, face in zip((0.6, 0.7, 0.8, 0.9, 1.0, 1.0), depth_order):
                cv2.fillPoly(image, [np.round(pixels[list(face)] * 16).astype(np.int32)],
                             [c * shade for c in colour], lineType=cv2.LINE_AA, shift=4)
        return np.clip(image, 0, 255).astype(np.uint8)


def _spawn_objects(rng: np.random.Generator, count: int) -> list:
    """Objects of one scene in the global frame: category, size, start, heading, speed."""
    objects = []
    names = list(CATEGORIES)
    for _ in range(count):
        name = names[int(rng.integers(len(names)))]
        wlh, _, _, speed = CATEGORIES[name]
        moving = speed > 0 and rng.random() < 0.5
        side = rng.choice([-1, 1])
        start = np.array([rng.uniform(-25, 35), side * rng.uniform(4, 25), wlh[2] / 2])
        objects.append(dict(category=name, wlh=wlh, start=start, yaw=rng.uniform(-math.pi, math.pi),
                            speed=speed * rng.uniform(0.5, 1.0) if moving else 0.0))
    return objects


def _place(obj: dict, t: float) -> np.ndarray:
    heading = np.array([math.cos(obj['yaw']), math.sin(obj['yaw']), 0.0])
    return obj['start'] + heading * obj['speed'] * t


def generate_nuscenes(root: Union[str, Path], samples_per_scene: int = 4,
                      objects_per_scene: int = 12, image_size: Sequence[int] = (225, 400),
                      seed: int = 0) -> dict:
    """Write the devkit tables and the sample files of every mini-split scene under ``root``.

    Args:
        root: dataset directory (created if needed).
        samples_per_scene: key frames per scene (at least 2, so velocities exist).
        objects_per_scene: boxes per scene.
        image_size: (height, width) of the camera images (nuScenes: 900 x 1600).
        seed: the same seed and arguments give the same files.

    Returns:
        ``root``, ``version`` and the number of samples per split.
    """
    if samples_per_scene < 2:
        raise ValueError(f'samples_per_scene must be >= 2 (velocities need two key frames), '
                         f'got {samples_per_scene}')
    if len(image_size) != 2 or min(image_size) < 32:
        raise ValueError(f'image_size must be (height, width), each >= 32, got {image_size}')
    root = Path(root).absolute()
    rng = np.random.default_rng(seed)
    tables = {name: [] for name in ('category', 'attribute', 'visibility', 'instance', 'sensor',
                                    'calibrated_sensor', 'ego_pose', 'log', 'scene', 'sample',
                                    'sample_data', 'sample_annotation', 'map')}
    category_tokens = {}
    for name in CATEGORIES:
        category_tokens[name] = _token(rng)
        tables['category'].append(dict(token=category_tokens[name], name=name,
                                       description=f'synthetic {name}'))
    attribute_tokens = {name: _token(rng) for name in ATTRIBUTES}
    tables['attribute'] = [dict(token=t, name=n, description=n) for n, t in
                           attribute_tokens.items()]
    visibility = _token(rng)
    tables['visibility'] = [dict(token=visibility, level='v80-100',
                                 description='visibility of whole object is between 80 and 100%')]
    cameras = {channel: _Camera(yaw, xy, image_size) for channel, (yaw, xy) in CAMERAS.items()}
    sensors, calibration = {}, {}
    for channel in ('LIDAR_TOP', *CAMERAS):
        sensors[channel] = _token(rng)
        modality = 'lidar' if channel == 'LIDAR_TOP' else 'camera'
        tables['sensor'].append(dict(token=sensors[channel], channel=channel, modality=modality))
        calibration[channel] = _token(rng)
        if channel == 'LIDAR_TOP':
            record = dict(translation=list(LIDAR_TRANSLATION),
                          rotation=list(LIDAR_ROTATION.elements), camera_intrinsic=[])
        else:
            camera = cameras[channel]
            record = dict(translation=camera.translation.tolist(),
                          rotation=list(Quaternion(matrix=camera.rotation).elements),
                          camera_intrinsic=camera.intrinsic.tolist())
        tables['calibrated_sensor'].append(dict(token=calibration[channel],
                                                sensor_token=sensors[channel], **record))
    log = _token(rng)
    tables['log'].append(dict(token=log, logfile='synthetic', vehicle='n015',
                              date_captured='2018-07-24', location='singapore-onenorth'))
    (root / 'maps').mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(root / 'maps' / 'synthetic.png'), np.zeros((20, 20), np.uint8))
    tables['map'].append(dict(token=_token(rng), log_tokens=[log], category='semantic_prior',
                              filename='maps/synthetic.png'))
    counts = {}
    for split, names in (('train', TRAIN_SCENES), ('val', VAL_SCENES)):
        for scene_index, scene_name in enumerate(names):
            _write_scene(root, rng, tables, scene_name, samples_per_scene, objects_per_scene,
                         cameras, sensors, calibration, category_tokens, attribute_tokens,
                         visibility, log, FIRST_TIMESTAMP + scene_index * 10**8)
        counts[split] = len(names) * samples_per_scene
    for name, records in tables.items():
        dump_json(records, root / VERSION / f'{name}.json')
    return dict(root=str(root), version=VERSION, num_samples=counts)


def _write_scene(root: Path, rng: np.random.Generator, tables: dict, name: str, num_samples: int,
                 num_objects: int, cameras: dict, sensors: dict, calibration: dict,
                 category_tokens: dict, attribute_tokens: dict, visibility: str, log: str,
                 start_time: int) -> None:
    """Append one scene's records to ``tables`` and write its images and LiDAR sweeps."""
    scene = dict(token=_token(rng), log_token=log, nbr_samples=num_samples, name=name,
                 description='synthetic street')
    objects = _spawn_objects(rng, num_objects)
    instances = [dict(token=_token(rng), category_token=category_tokens[o['category']],
                      nbr_annotations=num_samples) for o in objects]
    samples = [dict(token=_token(rng), timestamp=start_time + int(i * FRAME_TIME * 1e6),
                    scene_token=scene['token']) for i in range(num_samples)]
    annotations = [[_token(rng) for _ in objects] for _ in samples]
    previous_data = {channel: None for channel in ('LIDAR_TOP', *CAMERAS)}  # last record
    lidar_rotation = LIDAR_ROTATION.rotation_matrix
    for i, sample in enumerate(samples):
        sample['prev'] = samples[i - 1]['token'] if i else ''
        sample['next'] = samples[i + 1]['token'] if i + 1 < num_samples else ''
        t = i * FRAME_TIME
        ego = dict(token=_token(rng), timestamp=sample['timestamp'], rotation=_quat(0.0),
                   translation=[EGO_SPEED * t, 0.0, 0.0])
        tables['ego_pose'].append(ego)
        ego_position = np.array(ego['translation'])
        in_ego, points = [], [_ground_points(rng)]
        for k, obj in enumerate(objects):
            center_ego = _place(obj, t) - ego_position
            colour = CATEGORIES[obj['category']][1]
            in_ego.append((center_ego, obj['wlh'], obj['yaw'], colour))
            inside = (rng.uniform(-0.45, 0.45, (POINTS_PER_OBJECT, 3)) *
                      np.array(obj['wlh'])[[1, 0, 2]])
            cos, sin = math.cos(obj['yaw']), math.sin(obj['yaw'])
            points.append(inside @ np.array([[cos, sin, 0], [-sin, cos, 0], [0, 0, 1]])
                          + center_ego)
            moving, parked = CATEGORIES[obj['category']][2]
            attribute = moving if obj['speed'] > 0 else parked
            tables['sample_annotation'].append(dict(
                token=annotations[i][k], sample_token=sample['token'],
                instance_token=instances[k]['token'], visibility_token=visibility,
                attribute_tokens=[attribute_tokens[attribute]] if attribute else [],
                translation=_place(obj, t).tolist(), size=list(obj['wlh']),
                rotation=_quat(obj['yaw']), prev=annotations[i - 1][k] if i else '',
                next=annotations[i + 1][k] if i + 1 < num_samples else '',
                num_lidar_pts=POINTS_PER_OBJECT, num_radar_pts=0))
        ego_points = np.concatenate(points)
        lidar_points = (ego_points - np.array(LIDAR_TRANSLATION)) @ lidar_rotation
        sweep = np.concatenate([lidar_points, np.zeros((len(lidar_points), 2))], 1)
        files = {'LIDAR_TOP': (f'samples/LIDAR_TOP/{sample["token"]}.pcd.bin', 'pcd', 0, 0)}
        _save(root / files['LIDAR_TOP'][0], sweep.astype(np.float32).tobytes())
        for channel, camera in cameras.items():
            path = f'samples/{channel}/{sample["token"]}.jpg'
            ok, encoded = cv2.imencode('.jpg', camera.render(rng, in_ego),
                                       [cv2.IMWRITE_JPEG_QUALITY, 92])
            _save(root / path, encoded.tobytes())
            files[channel] = (path, 'jpg', *camera.size)
        for channel, (path, fileformat, height, width) in files.items():
            record = dict(token=_token(rng), sample_token=sample['token'],
                          ego_pose_token=ego['token'],
                          calibrated_sensor_token=calibration[channel],
                          timestamp=sample['timestamp'], fileformat=fileformat,
                          is_key_frame=True, height=height, width=width, filename=path,
                          prev='', next='')
            if previous_data[channel]:
                previous_data[channel]['next'] = record['token']
                record['prev'] = previous_data[channel]['token']
            previous_data[channel] = record
            tables['sample_data'].append(record)
    for k, instance in enumerate(instances):
        instance.update(first_annotation_token=annotations[0][k],
                        last_annotation_token=annotations[-1][k])
    scene.update(first_sample_token=samples[0]['token'], last_sample_token=samples[-1]['token'])
    tables['instance'] += instances
    tables['sample'] += samples
    tables['scene'].append(scene)


def _ground_points(rng: np.random.Generator) -> np.ndarray:
    radius, angle = rng.uniform(3, 40, 400), rng.uniform(-math.pi, math.pi, 400)
    return np.stack([radius * np.cos(angle), radius * np.sin(angle), np.zeros(400)], 1)


def _save(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def write_nuscenes_infos(root: Union[str, Path], prefix: str = 'nuscenes') -> dict:
    """Run mmdet3d's nuScenes converter on ``root``: ``<prefix>_infos_{train,val}.pkl`` (v2).

    The converter is the one mmdet3d ships (``tools/dataset_converters``: the infos
    of ``create_data.py nuscenes``, then their update to the v2 format). Its update
    step opens the devkit at ``./data/nuscenes``, so it runs in a scratch directory
    where that path links to ``root``.
    """
    import contextlib
    import importlib.util
    import io
    import os
    import tempfile

    import mmdet3d

    converters = Path(mmdet3d.__file__).parent / '.mim' / 'tools' / 'dataset_converters'

    def load(name: str):
        spec = importlib.util.spec_from_file_location(f'mmdet3d_{name}', converters / f'{name}.py')
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    root = Path(root).absolute()
    creator, updater = load('nuscenes_converter'), load('update_infos_to_v2')
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory() as scratch, contextlib.redirect_stdout(io.StringIO()):
        (Path(scratch) / 'data').mkdir()
        (Path(scratch) / 'data' / 'nuscenes').symlink_to(root)
        os.chdir(scratch)
        try:
            creator.create_nuscenes_infos(str(root), prefix, version=VERSION, max_sweeps=0)
            infos = {}
            for split in ('train', 'val'):
                path = root / f'{prefix}_infos_{split}.pkl'
                updater.update_pkl_infos('nuscenes', out_dir=str(root), pkl_path=str(path))
                infos[split] = str(path)
        finally:
            os.chdir(cwd)
    return infos
