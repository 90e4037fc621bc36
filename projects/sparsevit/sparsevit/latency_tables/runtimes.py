"""The runtimes a latency table is measured on: each turns configurations into timed calls.

A runtime prepares the backbone for a set of configurations at once (one
graph per configuration where it compiles or exports) and hands out one call
per configuration, which the measurement times round-robin. A further runtime
(TensorRT, a remote device) is one more :class:`LatencyRuntime` subclass
registered with :func:`register_runtime`; nothing else changes.
"""
import os
import platform
import shutil
import tempfile
import time
from abc import ABC, abstractmethod
from contextlib import contextmanager
from pathlib import Path
from typing import (Callable, ClassVar, ContextManager, Iterator, Mapping, NamedTuple, Optional,
                    Sequence)

import torch
from torch import Tensor, nn

from ..analysis.latency import DTYPES, LatencyProtocol
from ..analysis.part_costs import part_timing_call
from ..deployment import DeploymentError, OnnxBackbone, compile_backbone, export_onnx
from ..deployment.onnx_export import trace_onnx
from ..models.backbones import SparseSwinTransformer
from ..models.backbones.patch_merging import merge_patches
from ..models.backbones.sparse_stage import forward_stage
from ..sparsity import BlockRatios

Calls = dict[str, Callable[[], object]]
Progress = Callable[[str], None]


def device_name(device: torch.device) -> str:
    """The GPU's name, or the processor model and core count as Linux reports them."""
    if device.type == 'cuda':
        return torch.cuda.get_device_name(device)
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return f'{line.split(":", 1)[1].strip()}, {os.cpu_count()} cores'
    except OSError:
        pass
    return f'{platform.processor() or platform.machine()}, {os.cpu_count()} cores'


class StageInput(NamedTuple):
    """The dense tokens ``(B, H * W, C)`` entering a stage, their grid, and the tokens the
    stage ranks its windows on where they differ (stage 0 of ``score_before_patch_norm``)."""
    tokens: Tensor
    hw_shape: tuple[int, int]
    scored: Optional[Tensor] = None


class LatencyRuntime(ABC):
    """How the backbone runs on the target: PyTorch eager, a compiled graph, an exported one.

    Args:
        backbone: the backbone with the weights to run; a runtime may cast or move it.
        protocol: device, batch, input size and dtype (its warm-up and runs are the
            measurement's business).
        threads: CPU threads the runtime computes with.
    """
    name: ClassVar[str]
    # configurations prepared at once while a table is measured (None: all of them)
    group_size: ClassVar[Optional[int]] = None
    # whether the runtime times the parts of a forward in place (:meth:`part_calls`)
    times_parts: bool = False
    # whether the runtime times one stage on its own (:meth:`stage_calls`)
    times_stages: ClassVar[bool] = False

    def __init__(self, backbone: SparseSwinTransformer, protocol: LatencyProtocol,
                 threads: int):
        self.backbone, self.protocol, self.threads = backbone, protocol, threads
        self.device = torch.device(protocol.device)
        self._stage_inputs: Optional[list[StageInput]] = None

    @abstractmethod
    def version(self) -> str:
        """The runtime's name and version, e.g. ``torch 2.4.1``."""

    @contextmanager
    @abstractmethod
    def calls(self, configs: Mapping[str, BlockRatios],
              progress: Progress = lambda text: None) -> Iterator[Calls]:
        """One call per named configuration (per-block ratios), valid inside the context;
        everything it compiled or exported is released on exit."""

    def part_calls(self, configs: Mapping[str, BlockRatios],
                   parts: dict[str, list[dict[str, float]]]) -> Calls:
        """One call per configuration that also appends, per forward, the seconds of each part
        (:meth:`SparseSwinTransformer.timing_parts`) to ``parts[name]``; only where
        :attr:`times_parts`."""
        raise NotImplementedError(f'the {self.name} runtime cannot time parts in place')

    def stage_calls(self, stage: int, configs: Mapping[str, Sequence[float]],
                    progress: Progress = lambda text: None) -> ContextManager[Calls]:
        """A context of one call per named configuration of stage ``stage`` (its blocks'
        ratios), each running that stage alone on its dense input; only where
        :attr:`times_stages`, and inside the context of :meth:`calls` (a table times them
        beside the whole dense backbone, which releases what they compiled)."""
        raise NotImplementedError(f'the {self.name} runtime cannot time a stage on its own')

    def stage_input(self, stage: int) -> StageInput:
        """What enters ``stage`` of the dense backbone for the runtime's input (computed
        once)."""
        if self._stage_inputs is None:
            self._stage_inputs = stage_inputs(self.backbone, torch.as_tensor(self.images))
        return self._stage_inputs[stage]


RUNTIMES: dict[str, type] = {}


def register_runtime(cls: type) -> type:
    """Make a :class:`LatencyRuntime` subclass available under its ``name``."""
    RUNTIMES[cls.name] = cls
    return cls


def build_runtime(name: str, backbone: SparseSwinTransformer, protocol: LatencyProtocol,
                  threads: int) -> LatencyRuntime:
    """The registered runtime ``name``; a :class:`DeploymentError` names the known ones."""
    if name not in RUNTIMES:
        raise DeploymentError(f'unknown runtime {name!r}; known: {", ".join(sorted(RUNTIMES))}')
    return RUNTIMES[name](backbone, protocol, threads)


class StageGraph(nn.Module):
    """One stage of a backbone at fixed ratios, on its input tokens: what a stage graph runs.

    It returns the stage's output only: a graph that also returned the kept windows (as an
    exported backbone does) was measured to cost more than its stage inside the whole graph.
    """

    def __init__(self, backbone: SparseSwinTransformer, stage: int, ratios: Sequence[float],
                 hw_shape: tuple[int, int]):
        super().__init__()
        self.blocks = backbone.stages[stage].blocks
        self.ratios, self.hw_shape = tuple(ratios), hw_shape

    def forward(self, tokens: Tensor, scored: Optional[Tensor] = None) -> Tensor:
        return forward_stage(self.blocks, self.ratios, tokens, self.hw_shape, scored=scored)


def stage_inputs(backbone: SparseSwinTransformer, images: Tensor) -> list[StageInput]:
    """What enters each stage of the dense backbone for ``images``."""
    with torch.no_grad():
        x, hw_shape, scored = backbone._embed(images)
        if backbone.use_abs_pos_embed:
            x = x + backbone.absolute_pos_embed
        inputs = []
        for stage in backbone.stages:
            inputs.append(StageInput(x, hw_shape, scored))
            scored = None
            if stage.downsample is not None:
                out = forward_stage(stage.blocks, (0.0, ) * len(stage.blocks), x, hw_shape)
                x, hw_shape = merge_patches(stage.downsample, out, hw_shape)
    return inputs


class _TorchRuntime(LatencyRuntime):
    """The backbone as a PyTorch module on the protocol's device and dtype."""

    def __init__(self, backbone: SparseSwinTransformer, protocol: LatencyProtocol,
                 threads: int):
        super().__init__(backbone, protocol, threads)
        dtype = DTYPES[protocol.dtype]
        self.backbone = backbone.to(device=self.device, dtype=dtype).eval()
        self.images = torch.randn(protocol.batch, backbone.in_channels, protocol.height,
                                  protocol.width, device=self.device, dtype=dtype)

    def version(self) -> str:
        return f'torch {torch.__version__}'


@register_runtime
class PyTorchEager(_TorchRuntime):
    """PyTorch eager mode: the backbone's forward at each configuration."""
    name = 'pytorch'

    def __init__(self, backbone: SparseSwinTransformer, protocol: LatencyProtocol,
                 threads: int):
        super().__init__(backbone, protocol, threads)
        # on CUDA, timing parts waits for the device at every part, which a real forward does
        # not: there the table times whole forwards
        self.times_parts = self.device.type == 'cpu'

    @contextmanager
    def calls(self, configs: Mapping[str, BlockRatios],
              progress: Progress = lambda text: None) -> Iterator[Calls]:
        def call(ratios: BlockRatios) -> Callable[[], object]:
            return lambda: self.backbone.forward_at(self.images, ratios)
        yield {name: call(ratios) for name, ratios in configs.items()}

    def part_calls(self, configs: Mapping[str, BlockRatios],
                   parts: dict[str, list[dict[str, float]]]) -> Calls:
        return {name: part_timing_call(self.backbone, self.images, ratios,
                                       parts.setdefault(name, []))
                for name, ratios in configs.items()}


def _dynamo_limit_name() -> str:
    config = torch._dynamo.config
    return 'recompile_limit' if hasattr(config, 'recompile_limit') else 'cache_size_limit'


@contextmanager
def _recompile_limit(at_least: int) -> Iterator[None]:
    """torch.compile keeps at least ``at_least`` graphs per function inside the block."""
    import torch._dynamo
    config, name = torch._dynamo.config, _dynamo_limit_name()
    previous = getattr(config, name)
    setattr(config, name, max(previous, at_least))
    try:
        yield
    finally:
        setattr(config, name, previous)


def _compiled_calls(calls: Calls, progress: Progress) -> Calls:
    """Run each compiled call once, in the mode the timing runs in, so that it compiles now
    (and not while it is timed)."""
    for index, (name, fn) in enumerate(calls.items()):
        start = time.perf_counter()
        with torch.inference_mode():
            fn()
        progress(f'compiled {index + 1}/{len(calls)} ({name}) in '
                 f'{time.perf_counter() - start:.1f} s')
    return calls


@register_runtime
class TorchCompile(_TorchRuntime):
    """torch.compile: one graph per configuration, compiled before the timing starts; a
    table's stage configurations are compiled as graphs of their stage alone."""
    name = 'compile'
    times_stages = True
    STAGE_GRAPHS = 1024  # stage graphs kept while a table is measured (one code object)

    @contextmanager
    def calls(self, configs: Mapping[str, BlockRatios],
              progress: Progress = lambda text: None) -> Iterator[Calls]:
        import torch._dynamo
        torch._dynamo.reset()
        try:
            with _recompile_limit(len(configs) + 1):
                compiled = compile_backbone(self.backbone)

                def call(ratios: BlockRatios) -> Callable[[], object]:
                    return lambda: compiled.compiled_forward(self.images, ratios)

                yield _compiled_calls({name: call(ratios) for name, ratios in configs.items()},
                                      progress)
        finally:
            torch._dynamo.reset()

    @contextmanager
    def stage_calls(self, stage: int, configs: Mapping[str, Sequence[float]],
                    progress: Progress = lambda text: None) -> Iterator[Calls]:
        tokens, hw_shape, scored = self.stage_input(stage)

        def call(ratios: Sequence[float]) -> Callable[[], object]:
            graph = torch.compile(StageGraph(self.backbone, stage, ratios, hw_shape).eval(),
                                  dynamic=False)
            return lambda: graph(tokens, scored)

        with _recompile_limit(self.STAGE_GRAPHS):
            yield _compiled_calls({name: call(ratios) for name, ratios in configs.items()},
                                  progress)


@register_runtime
class OnnxRuntime(LatencyRuntime):
    """ONNX Runtime (CPU execution provider): each configuration exported to its own fp32
    graph and run in its own session; the files live in a temporary folder."""
    name = 'onnxruntime'
    times_stages = True

    def __init__(self, backbone: SparseSwinTransformer, protocol: LatencyProtocol,
                 threads: int):
        if protocol.device != 'cpu':
            raise DeploymentError(f'the onnxruntime runtime runs on the CPU execution provider, '
                                  f'not {protocol.device}: measure it on the CPU')
        if protocol.dtype != 'fp32':
            raise DeploymentError(f'ONNX export writes fp32 graphs, not {protocol.dtype}: '
                                  'measure the onnxruntime runtime in fp32')
        super().__init__(backbone.float().eval(), protocol, threads)
        p = protocol
        self.images = torch.randn(p.batch, backbone.in_channels, p.height, p.width).numpy()

    def _session(self, model_bytes: bytes):
        import onnxruntime as ort
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        return ort.InferenceSession(model_bytes, options, providers=['CPUExecutionProvider'])

    def version(self) -> str:
        import onnxruntime
        return f'onnxruntime {onnxruntime.__version__}'

    @contextmanager
    def calls(self, configs: Mapping[str, BlockRatios],
              progress: Progress = lambda text: None) -> Iterator[Calls]:
        folder = Path(tempfile.mkdtemp(prefix='sparsevit-latency-'))
        original = self.backbone.block_ratios
        p = self.protocol
        try:
            calls = {}
            for index, (name, ratios) in enumerate(configs.items()):
                start = time.perf_counter()
                self.backbone.sparsity = ratios
                path = folder / f'config{index}.onnx'
                export_onnx(self.backbone, path, p.batch, p.height, p.width)
                session = OnnxBackbone(path, self.threads).session
                calls[name] = (lambda s: lambda: s.run(None, {'images': self.images}))(session)
                path.unlink()  # the session holds the graph
                progress(f'exported {index + 1}/{len(configs)} ({name}) in '
                         f'{time.perf_counter() - start:.1f} s')
            yield calls
        finally:
            self.backbone.sparsity = original
            shutil.rmtree(folder, ignore_errors=True)

    @contextmanager
    def stage_calls(self, stage: int, configs: Mapping[str, Sequence[float]],
                    progress: Progress = lambda text: None) -> Iterator[Calls]:
        tokens, hw_shape, scored = self.stage_input(stage)
        inputs = {'tokens': tokens} if scored is None else {'tokens': tokens, 'scored': scored}
        feed = {name: value.numpy() for name, value in inputs.items()}
        calls = {}
        for index, (name, ratios) in enumerate(configs.items()):
            start = time.perf_counter()
            graph = StageGraph(self.backbone, stage, ratios, hw_shape).eval()
            session = self._session(trace_onnx(graph, tuple(inputs.values()), list(inputs),
                                               ['out']).SerializeToString())
            calls[name] = (lambda s: lambda: s.run(None, feed))(session)
            progress(f'exported stage {stage} graph {index + 1}/{len(configs)} ({name}) in '
                     f'{time.perf_counter() - start:.1f} s')
        yield calls
