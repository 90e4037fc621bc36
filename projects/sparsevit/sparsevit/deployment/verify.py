"""Check an exported backbone against PyTorch, and time it against the dense export."""
import logging
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Optional, Union

import numpy as np
import torch
from mmengine.logging import print_log
from torch import Tensor, nn

from ..analysis.latency import measure_interleaved
from ..models.backbones import SparseSwinTransformer
from ..synthetic_images import demo_image
from ..utils.progress import ProgressLine
from .errors import DeploymentError
from .exportable import ExportableBackbone
from .onnx_backbone import OnnxBackbone
from .onnx_export import export_onnx

TOLERANCE = 1e-4  # max abs difference of fp32 features, ONNX Runtime against PyTorch


@dataclass(frozen=True)
class Agreement:
    """How one input's outputs in ONNX Runtime compare with PyTorch's."""
    input: str
    max_abs_diff: float
    kept_identical: bool

    def passed(self, tolerance: float = TOLERANCE) -> bool:
        return self.kept_identical and self.max_abs_diff <= tolerance

    def to_dict(self) -> dict:
        return asdict(self)


def check_inputs(shape: tuple, mean: Tensor, std: Tensor, seed: int = 0) -> dict[str, Tensor]:
    """Two batches of ``shape``: random normal input, and real-looking images (textured
    objects on smooth clutter) normalized with ``mean`` and ``std`` (``(C, 1, 1)``)."""
    batch, channels, height, width = shape
    generator = torch.Generator().manual_seed(seed)
    random = torch.randn(shape, generator=generator)
    images = np.stack([demo_image(seed + i, height, width) for i in range(batch)])
    real = torch.from_numpy(images).permute(0, 3, 1, 2).float()[:, :channels]
    return {'random': random, 'real-looking': (real - mean) / std}


def compare_with_pytorch(backbone: SparseSwinTransformer, runtime: OnnxBackbone, name: str,
                         images: Tensor, neck: Optional[nn.Module] = None) -> Agreement:
    """Run ``images`` through both; the largest feature difference and whether every pruning
    block kept the same windows."""
    module = ExportableBackbone(backbone, neck).eval()
    with torch.no_grad():
        outputs = module(images)
    expected = dict(zip(module.output_names, outputs))
    got = runtime(images.numpy())
    if set(got) != set(expected):
        return Agreement(name, float('inf'), False)
    diff, same = 0.0, True
    for key, value in expected.items():
        if key.startswith('kept_'):
            same = same and np.array_equal(value.numpy(), got[key])
        else:
            diff = max(diff, float(np.abs(value.numpy() - got[key]).max()))
    return Agreement(name, diff, same)


def time_against_dense(backbone: SparseSwinTransformer, runtime: OnnxBackbone,
                       threads: Optional[int], warmup: int, runs: int,
                       progress: Callable[[int, int], None] = lambda done, total: None,
                       neck: Optional[nn.Module] = None) -> dict:
    """ONNX Runtime latency of the exported file and of the same model exported dense,
    timed round-robin in one run (the dense file is written to a temporary folder).

    Returns:
        ``{'dense': LatencyResult, 'sparse': LatencyResult}``.
    """
    batch, channels, height, width = runtime.input_shape
    kept_sparsity = backbone.sparsity
    try:
        backbone.sparsity = None
        with tempfile.TemporaryDirectory() as tmp:
            dense_file = Path(tmp) / 'dense.onnx'
            export_onnx(backbone, dense_file, batch, height, width, neck=neck)
            dense = OnnxBackbone(dense_file, threads)
    finally:
        backbone.sparsity = kept_sparsity
    images = torch.randn(runtime.input_shape).numpy()
    calls = {'dense': lambda: dense(images), 'sparse': lambda: runtime(images)}
    return measure_interleaved(calls, torch.device('cpu'), warmup, runs, progress)


def verify_file(backbone: SparseSwinTransformer, path: Path, mean: Tensor, std: Tensor,
                threads: Optional[int] = None, warmup: int = 3, runs: int = 20,
                tolerance: float = TOLERANCE, neck: Optional[nn.Module] = None,
                logger: Union[logging.Logger, str, None] = 'current') -> dict:
    """Compare ``path`` with ``backbone`` (its configuration; followed by ``neck`` if given)
    on random and real-looking input, then time it against the dense export; reports each
    step to ``logger`` as mmengine's ``print_log`` takes it (``'current'``: the current
    ``MMLogger``; None: printed).

    Raises:
        DeploymentError: ``path`` was exported for another configuration, shape, parts or
            stage-0 scoring, or its outputs disagree with PyTorch's.
    """
    runtime = OnnxBackbone(path, threads)
    runtime.check(backbone.sparsity, backbone.depths,
                  parts='backbone' if neck is None else 'backbone+neck',
                  score_before_patch_norm=backbone.score_before_patch_norm)
    agreements = [compare_with_pytorch(backbone, runtime, name, images, neck)
                  for name, images in check_inputs(runtime.input_shape, mean, std).items()]
    for agreement in agreements:
        verdict = 'ok' if agreement.passed(tolerance) else 'FAILED'
        print_log(f'{agreement.input:>13} input: max abs diff {agreement.max_abs_diff:.2e} '
                  f'(tolerance {tolerance:.0e}), kept windows '
                  f'{"identical" if agreement.kept_identical else "DIFFERENT"}: {verdict}',
                  logger)
    failed = [a.input for a in agreements if not a.passed(tolerance)]
    if failed:
        raise DeploymentError(f'{path}: ONNX Runtime disagrees with PyTorch on '
                              f'{" and ".join(failed)} input')
    line = ProgressLine()
    timings = time_against_dense(backbone, runtime, threads, warmup, runs,
                                 lambda done, total: line.update(f'timing round {done}/{total}'),
                                 neck)
    line.close()
    ratio = timings['sparse'].mean_ms / timings['dense'].mean_ms
    print_log(f'ONNX Runtime, input {runtime.input_shape}: dense '
              f'{timings["dense"].mean_ms:.1f} ms, sparse {timings["sparse"].mean_ms:.1f} ms, '
              f'ratio {ratio:.3f} ({1 / ratio:.2f}x faster; {warmup + runs} rounds round-robin, '
              f'mean of the middle half)', logger)
    import onnxruntime
    protocol = dict(runtime=f'onnxruntime {onnxruntime.__version__}, CPUExecutionProvider',
                    threads=threads or 'default', warmup=warmup, runs=runs, torch=torch.__version__,
                    statistic='mean of the middle half (ms)')
    return dict(file=str(path), sparsity=runtime.sparsity, input_shape=list(runtime.input_shape),
                parts=runtime.parts, agreement=[a.to_dict() for a in agreements],
                protocol=protocol,
                latency={name: result.to_dict() for name, result in timings.items()},
                ratio=ratio)
