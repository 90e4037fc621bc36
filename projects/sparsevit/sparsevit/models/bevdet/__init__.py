"""BEVDet-style multi-camera 3D detection for mmdet3d 1.x (imported on demand: configs list
``'sparsevit.models.bevdet'`` in ``custom_imports``, as it loads mmdet3d). Importing it also
registers the geometry-aware data transforms of ``sparsevit.datasets.bevdet_transforms``
and ``NuScenesV2Dataset``."""
from ...camera_geometry import frustum, frustum_points, image_view_affine
from ...datasets.bevdet_transforms import BEVAug, MultiViewImageAug
from ...datasets.nuscenes_infos import NuScenesV2Dataset
from .bev_encoder import BEVResNet
from .bevdet import BEVDet
from .camera_inputs import camera_geometry
from .center_head import BEVDetCenterHead
from .necks import BEVFusionNeck, ImageFusionNeck
from .view_transformer import BEVGrid, LiftSplatViewTransformer

__all__ = [
    'BEVAug', 'BEVDet', 'BEVDetCenterHead', 'BEVFusionNeck', 'BEVGrid', 'BEVResNet',
    'ImageFusionNeck', 'LiftSplatViewTransformer', 'MultiViewImageAug', 'NuScenesV2Dataset',
    'camera_geometry', 'frustum', 'frustum_points', 'image_view_affine'
]
