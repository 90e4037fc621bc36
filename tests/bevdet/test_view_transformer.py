"""Lift-Splat: a feature at a known pixel and depth lands in the BEV cell the camera predicts."""
import cv2
import numpy as np
import pytest
import torch

from sparsevit.bevdet.camera_geometry import image_view_affine
from sparsevit.bevdet.view_transformer import LiftSplatViewTransformer

IMAGE = (256, 704)  # network input (H, W)
STRIDE = 16
K = np.array([[560.0, 0, 360.0], [0, 560.0, 150.0], [0, 0, 1]])  # of the original 320x736 image
# a front camera 1.5 m above the LiDAR origin: camera x right, y down, z forward
R = np.array([[0.0, 0, 1], [-1, 0, 0], [0, -1, 0]])  # columns: camera axes in the LiDAR frame
T = np.array([1.1, 0.23, 1.5])  # off the 0.8 m cell boundaries for integer depths
AUGMENTATIONS = {
    'none': dict(resize=1.0, crop=(16, 64, 16 + IMAGE[1], 64 + IMAGE[0]), flip=False, rotate=0),
    'resize-crop-flip-rotate': dict(resize=0.9, crop=(-10, 30, -10 + IMAGE[1], 30 + IMAGE[0]),
                                    flip=True, rotate=4.5),
}


def transformer() -> LiftSplatViewTransformer:
    return LiftSplatViewTransformer(in_channels=8, out_channels=4, image_size=IMAGE,
                                    stride=STRIDE).eval()


def project(point: np.ndarray) -> np.ndarray:
    """(u, v, depth) of a LiDAR-frame point in the original image."""
    cam = R.T @ (point - T)
    uv = K @ cam / cam[2]
    return np.array([uv[0], uv[1], cam[2]])


def point_seen_at(cell, depth, aug):
    """The LiDAR point that the augmented feature cell (i, j) sees at ``depth``."""
    i, j = cell
    augmented = np.array([(j + 0.5) * STRIDE - 0.5, (i + 0.5) * STRIDE - 0.5, 1.0])
    u, v, _ = np.linalg.inv(aug) @ augmented
    return R @ (depth * np.linalg.inv(K) @ np.array([u, v, 1.0])) + T


def splat_one(vt, cell, depth_bin, aug, bev_aug=np.eye(3)):
    """BEV output for a one-hot depth at ``depth_bin`` and a context only at ``cell``."""
    fh, fw = IMAGE[0] // STRIDE, IMAGE[1] // STRIDE
    depth = torch.zeros(1, 1, vt.num_depths, fh, fw)
    depth[0, 0, depth_bin, cell[0], cell[1]] = 1.0
    context = torch.zeros(1, 1, 4, fh, fw)
    context[0, 0, :, cell[0], cell[1]] = torch.tensor([1.0, 2.0, 3.0, 4.0])
    as_tensor = lambda a: torch.tensor(a, dtype=torch.float32)  # noqa: E731
    return vt.splat(depth, context, as_tensor(K)[None, None], as_tensor(
        np.block([[R, T[:, None]], [np.zeros((1, 3)), 1]]))[None, None],
        as_tensor(aug)[None, None], as_tensor(bev_aug)[None])


def expected_cell(point):
    """(row = iy, column = ix) of the 0.8 m grid over +-51.2 m."""
    return int(np.floor((point[1] + 51.2) / 0.8)), int(np.floor((point[0] + 51.2) / 0.8))


@pytest.mark.parametrize('name', AUGMENTATIONS)
@pytest.mark.parametrize('cell, depth_bin', [((9, 30), 18), ((3, 5), 40), ((12, 22), 6)])
def test_feature_lands_in_the_predicted_bev_cell(name, cell, depth_bin):
    vt = transformer()
    aug = image_view_affine(**AUGMENTATIONS[name])
    depth = 1.0 + depth_bin  # bins at 1, 2, ..., 59 m
    point = point_seen_at(cell, depth, aug)
    # the camera model, run forwards, puts the point at that augmented pixel and depth
    u, v, d = project(point)
    assert d == pytest.approx(depth)
    assert (aug @ [u, v, 1.0])[:2] == pytest.approx(
        [(cell[1] + 0.5) * STRIDE - 0.5, (cell[0] + 0.5) * STRIDE - 0.5])
    bev = splat_one(vt, cell, depth_bin, aug)
    assert bev.shape == (1, 4, 128, 128)
    nonzero = bev[0, 0].nonzero().tolist()
    assert nonzero == [list(expected_cell(point))]
    assert bev[0, :, nonzero[0][0], nonzero[0][1]].tolist() == [1.0, 2.0, 3.0, 4.0]


def test_bev_augmentation_moves_the_cell_with_the_point():
    vt = transformer()
    aug = image_view_affine(**AUGMENTATIONS['none'])
    point = point_seen_at((9, 30), 19.0, aug)
    quarter_turn = np.array([[0.0, -1, 0], [1, 0, 0], [0, 0, 1]])
    bev = splat_one(vt, (9, 30), 18, aug, quarter_turn)
    assert bev[0, 0].nonzero().tolist() == [list(expected_cell(quarter_turn @ point))]


def test_augmentation_matrix_matches_the_warped_image():
    """A dot drawn on the original image lands where the matrix sends its pixel."""
    params = AUGMENTATIONS['resize-crop-flip-rotate']
    aug = image_view_affine(**params)
    image = np.zeros((320, 736), np.float32)
    image[150, 400] = 1.0
    image = cv2.GaussianBlur(image, (0, 0), 3)
    x0, y0, x1, y1 = params['crop']
    warped = cv2.warpAffine(image, aug[:2], (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR)
    ys, xs = np.mgrid[:warped.shape[0], :warped.shape[1]]
    centre = [(warped * xs).sum() / warped.sum(), (warped * ys).sum() / warped.sum()]
    assert centre == pytest.approx((aug @ [400, 150, 1.0])[:2], abs=0.1)


def test_points_outside_the_grid_are_dropped():
    vt = transformer()
    aug = image_view_affine(**AUGMENTATIONS['none'])
    assert point_seen_at((9, 30), 59.0, aug)[0] > 51.2  # 59 m ahead: beyond the grid
    assert splat_one(vt, (9, 30), 58, aug).abs().sum() == 0


def test_indices_are_computed_once_per_geometry():
    vt = transformer()
    aug = image_view_affine(**AUGMENTATIONS['none'])
    splat_one(vt, (9, 30), 18, aug)
    first = next(iter(vt._indices.values()))
    splat_one(vt, (3, 5), 40, aug)
    assert len(vt._indices) == 1 and next(iter(vt._indices.values())) is first
    splat_one(vt, (9, 30), 18, image_view_affine(**AUGMENTATIONS['resize-crop-flip-rotate']))
    assert len(vt._indices) == 2


def test_forward_from_image_features_with_gradients():
    vt = transformer().train()
    features = torch.randn(2 * 6, 8, IMAGE[0] // STRIDE, IMAGE[1] // STRIDE, requires_grad=True)
    cam2img = torch.tensor(K, dtype=torch.float32).expand(2, 6, 3, 3)
    cam2lidar = torch.eye(4).expand(2, 6, 4, 4).clone()
    cam2lidar[..., :3, :3] = torch.tensor(R, dtype=torch.float32)
    bev = vt(features, cam2img, cam2lidar, torch.eye(3).expand(2, 6, 3, 3),
             torch.eye(3).expand(2, 3, 3))
    assert bev.shape == (2, 4, 128, 128)
    bev.sum().backward()
    assert features.grad.abs().sum() > 0 and vt.depth_net.weight.grad.abs().sum() > 0
    with pytest.raises(ValueError, match='image features of 8x22 do not fit'):
        vt(torch.randn(6, 8, 8, 22), cam2img[:1], cam2lidar[:1], torch.eye(3).expand(1, 6, 3, 3),
           torch.eye(3).expand(1, 3, 3))
