"""BEVDet for mmdet3d 1.x: multi-camera images -> Lift-Splat BEV -> CenterPoint head."""
from typing import Optional

from mmdet3d.models.detectors import Base3DDetector
from mmdet3d.registry import MODELS
from mmdet3d.structures import Det3DDataSample
from torch import Tensor

from .camera_params import stack_camera_params


@MODELS.register_module()
class BEVDet(Base3DDetector):
    """The BEVDet composition (Huang et al., 2021) in plain PyTorch on mmdet3d 1.x.

    ``img_backbone`` (a sparse Swin: windows are selected per camera image) ->
    ``img_neck`` -> ``view_transformer`` (Lift-Splat into the LiDAR-frame BEV
    grid) -> ``bev_backbone`` -> ``bev_neck`` -> ``bbox_head`` (mmdet3d's
    ``CenterHead`` or ``BEVDetCenterHead``). Inputs are ``inputs['imgs']`` of
    ``(B, N, 3, H, W)`` and, per sample, the camera parameters ``cam2img``,
    ``lidar2cam``, ``img_aug_matrix`` and ``bev_aug_matrix`` in the metainfo.
    """

    def __init__(self, img_backbone: dict, img_neck: dict, view_transformer: dict,
                 bev_backbone: dict, bev_neck: dict, bbox_head: dict,
                 train_cfg: Optional[dict] = None, test_cfg: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None, init_cfg: Optional[dict] = None):
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.img_backbone = MODELS.build(img_backbone)
        self.img_neck = MODELS.build(img_neck)
        self.view_transformer = MODELS.build(view_transformer)
        self.bev_backbone = MODELS.build(bev_backbone)
        self.bev_neck = MODELS.build(bev_neck)
        self.bbox_head = MODELS.build(dict(bbox_head, train_cfg=train_cfg, test_cfg=test_cfg))

    def extract_feat(self, batch_inputs_dict: dict,
                     batch_data_samples: list[Det3DDataSample]) -> list[Tensor]:
        """The BEV feature maps (one scale) of a batch."""
        imgs = batch_inputs_dict['imgs']
        if imgs.dim() != 5:
            raise ValueError(f'BEVDet takes inputs["imgs"] of (B, N cameras, 3, H, W), got '
                             f'{tuple(imgs.shape)}')
        batch, cameras = imgs.shape[:2]
        features = self.img_neck(self.img_backbone(imgs.flatten(0, 1)))[0]
        geometry = stack_camera_params([s.metainfo for s in batch_data_samples], cameras,
                                       imgs.device)
        bev = self.view_transformer(features, *geometry)
        return self.bev_neck(self.bev_backbone(bev))

    def loss(self, batch_inputs_dict: dict, batch_data_samples: list[Det3DDataSample],
             **kwargs) -> dict:
        return self.bbox_head.loss(self.extract_feat(batch_inputs_dict, batch_data_samples),
                                   batch_data_samples)

    def predict(self, batch_inputs_dict: dict, batch_data_samples: list[Det3DDataSample],
                **kwargs) -> list[Det3DDataSample]:
        results = self.bbox_head.predict(
            self.extract_feat(batch_inputs_dict, batch_data_samples), batch_data_samples)
        return self.add_pred_to_datasample(batch_data_samples, results)

    def _forward(self, batch_inputs_dict: dict, batch_data_samples: list[Det3DDataSample],
                 **kwargs):
        """The raw head outputs (per task, per scale)."""
        return self.bbox_head(self.extract_feat(batch_inputs_dict, batch_data_samples))
