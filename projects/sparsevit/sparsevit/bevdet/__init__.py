"""BEVDet-style multi-camera 3D detection for mmdet3d 1.x, self-contained.

Imported on demand, as it needs mmdet3d: the BEVDet configs list
``'sparsevit.bevdet'`` in ``custom_imports``. Importing it registers, in
mmdet3d's registries, the detector and its parts (MODELS), the geometry-aware
augmentations (TRANSFORMS), ``NuScenesV2Dataset`` (DATASETS) and the
visualization hook that draws its predictions (HOOKS).
"""
from .bev_encoder import BEVResNet
from .bevdet import BEVDet
from .camera_geometry import frustum, frustum_points, image_view_affine
from .camera_params import stack_camera_params
from .center_head import BEVDetCenterHead
from .necks import BEVFusionNeck, ImageFusionNeck
from .nuscenes_dataset import NuScenesV2Dataset
from .transforms import BEVAug, MultiViewImageAug
from .view_transformer import BEVGrid, LiftSplatViewTransformer
from .visualization import BEVDetVisualizationHook

__all__ = [
    'BEVAug', 'BEVDet', 'BEVDetCenterHead', 'BEVDetVisualizationHook', 'BEVFusionNeck', 'BEVGrid',
    'BEVResNet', 'ImageFusionNeck', 'LiftSplatViewTransformer', 'MultiViewImageAug',
    'NuScenesV2Dataset', 'frustum', 'frustum_points', 'image_view_affine', 'stack_camera_params'
]
