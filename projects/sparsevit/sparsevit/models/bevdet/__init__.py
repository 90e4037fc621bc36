"""BEVDet-style multi-camera 3D detection for mmdet3d 1.x (imported on demand: configs list
``'sparsevit.models.bevdet'`` in ``custom_imports``, as it loads mmdet3d). Importing it also
registers the geometry-aware data transforms of ``sparsevit.datasets.bevdet_transforms``."""
from .bev_encoder import BEVResNet
from .bevdet import BEVDet
from .camera_inputs import camera_geometry
from .geometry import frustum, frustum_points, image_view_affine
from .necks import BEVFusionNeck, ImageFusionNeck
from .view_transformer import BEVGrid, LiftSplatViewTransformer
from ...datasets import bevdet_transforms  # noqa: F401,E402  registers the transforms

__all__ = [
    'BEVDet', 'BEVFusionNeck', 'BEVGrid', 'BEVResNet', 'ImageFusionNeck',
    'LiftSplatViewTransformer', 'camera_geometry', 'frustum', 'frustum_points',
    'image_view_affine'
]
