"""The sparse backbone (and optionally its neck) as an export graph: the features and the
windows each block kept."""
from typing import Optional

from torch import Tensor, nn

from ..models.backbones import SparseSwinTransformer


class ExportableBackbone(nn.Module):
    """Wraps a :class:`SparseSwinTransformer` at its current configuration for export.

    The forward returns the backbone's feature maps (or, with ``neck``, the
    neck's outputs on them) followed by, for each block that prunes, the
    ``(B, k)`` indices of the windows it kept, so that an exported file shows
    which windows it selected for each image. ``output_names`` lists the
    outputs after the first forward.
    """

    def __init__(self, backbone: SparseSwinTransformer, neck: Optional[nn.Module] = None):
        super().__init__()
        self.backbone = backbone
        self.neck = neck
        self.output_names: list[str] = []

    def forward(self, images: Tensor) -> tuple[Tensor, ...]:
        with self.backbone.recording_windows() as forwards:
            features = self.backbone(images)
        records = forwards[0]
        if self.neck is None:
            self.output_names = [f'features{i}' for i in self.backbone.out_indices]
        else:
            features = self.neck(features)
            self.output_names = [f'neck{i}' for i in range(len(features))]
        kept = [(f'kept_stage{stage}_block{block}', record['kept'])
                for stage, blocks in enumerate(records)
                for block, record in enumerate(blocks) if record['kept'] is not None]
        self.output_names += [name for name, _ in kept]
        return (*features, *(indices for _, indices in kept))
