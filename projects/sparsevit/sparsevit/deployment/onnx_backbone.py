"""Run an exported sparse backbone in ONNX Runtime, only on what it was exported for."""
import json
from pathlib import Path
from typing import Optional, Sequence, Union

import numpy as np

from ..sparsity import SparsityLike, compact_sparsity, normalize_sparsity
from .errors import DeploymentError, require_packages
from .onnx_export import META_INPUT_SHAPE, META_PARTS, META_SPARSITY, META_STAGE0_SCORING


class OnnxBackbone:
    """An ONNX Runtime session of a file written by :func:`export_onnx`.

    The file's configuration and input shape are fixed; :meth:`check` and
    every call refuse anything else with a :class:`DeploymentError`.

    Args:
        path: the exported file.
        threads: intra-op threads of ONNX Runtime (default: its own choice).
    """

    def __init__(self, path: Union[str, Path], threads: Optional[int] = None):
        require_packages('onnxruntime')
        import onnxruntime as ort
        self.path = Path(path)
        if not self.path.is_file():
            raise DeploymentError(f'{self.path}: no such file')
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        try:
            self.session = ort.InferenceSession(str(self.path), options,
                                                providers=['CPUExecutionProvider'])
        except Exception as err:  # ONNX Runtime raises its own untyped errors
            first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err)
            raise DeploymentError(f'{self.path} is not a readable ONNX file ({first_line})') \
                from err
        recorded = self.session.get_modelmeta().custom_metadata_map
        if META_SPARSITY not in recorded or META_INPUT_SHAPE not in recorded:
            raise DeploymentError(f'{self.path} was not written by tools/deployment/'
                                  'export_onnx.py: it records no sparsity or input shape')
        self.sparsity = json.loads(recorded[META_SPARSITY])
        self.input_shape = tuple(json.loads(recorded[META_INPUT_SHAPE]))
        self.parts = json.loads(recorded.get(META_PARTS, '"backbone"'))
        self.score_before_patch_norm = json.loads(recorded.get(META_STAGE0_SCORING, 'false'))
        self.output_names = [output.name for output in self.session.get_outputs()]

    def check(self, sparsity: SparsityLike = None, depths: Sequence[int] = (),
              shape: Optional[Sequence[int]] = None, parts: Optional[str] = None,
              score_before_patch_norm: Optional[bool] = None) -> None:
        """Refuse a configuration (normalized over ``depths``), an input shape, exported
        parts (``'backbone'``, ``'backbone+neck'``) or a stage-0 scoring rule that differ
        from the file's."""
        if sparsity is not None:
            wanted = compact_sparsity(normalize_sparsity(sparsity, depths))
            if wanted != self.sparsity:
                raise DeploymentError(
                    f'{self.path} was exported for sparsity {json.dumps(self.sparsity)}, not '
                    f'{json.dumps(wanted)}: export that configuration to its own file')
        if shape is not None and tuple(shape) != self.input_shape:
            raise DeploymentError(
                f'{self.path} was exported for input {self.input_shape} (B, C, H, W), not '
                f'{tuple(shape)}: export the backbone again for that input shape')
        if parts is not None and parts != self.parts:
            raise DeploymentError(f'{self.path} holds the {self.parts}, not the {parts}: '
                                  f'export the {parts} to its own file')
        if score_before_patch_norm is not None and \
                score_before_patch_norm != self.score_before_patch_norm:
            raise DeploymentError(
                f'{self.path} was exported with score_before_patch_norm='
                f'{self.score_before_patch_norm}, the model has {score_before_patch_norm}: '
                'export it from the config it is checked against')

    def __call__(self, images: np.ndarray) -> dict[str, np.ndarray]:
        """Features and kept-window indices, by output name, of a float32 ``(B, C, H, W)``
        batch of the exported shape."""
        self.check(shape=images.shape)
        outputs = self.session.run(None, {'images': np.asarray(images, dtype=np.float32)})
        return dict(zip(self.output_names, outputs))
