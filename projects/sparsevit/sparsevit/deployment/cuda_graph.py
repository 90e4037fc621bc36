"""CUDA graphs of the sparse backbone: one captured forward per configuration, input shape and
dtype, replayed from static buffers.

The sparse forward reads no tensor value on the host (the window counts are Python integers
of the configuration and the input size; the ranking and gathers stay on the device), so a
whole forward at one configuration and shape can be captured once and replayed, which removes
the launch overhead of its many small kernels.
"""
from collections import OrderedDict
from contextlib import nullcontext
from typing import Callable, Hashable, NamedTuple, Optional

import torch
from torch import Tensor, nn

from ..graph_capture import autocast_dtype
from ..models.backbones import SparseSwinTransformer
from ..models.backbones.window_geometry import WindowGeometry, retain_geometries
from ..sparsity import BlockRatios
from .errors import DeploymentError

# graphs kept at once (each holds the activation memory of one forward); the least recently
# used one is dropped past it
MAX_CUDA_GRAPHS = 8
# eager forwards run before a capture (on a side stream, as CUDA graph capture requires)
WARMUP_RUNS = 3

Forward = Callable[[Tensor], list[Tensor]]
# takes a forward and an example input; returns a function that replays that forward
Capturer = Callable[[Forward, Tensor], Forward]


class GraphKey(NamedTuple):
    """What a captured graph is specialized to: everything that changes its kernels."""
    block_ratios: BlockRatios
    score_before_patch_norm: bool
    shape: tuple[int, ...]
    dtype: torch.dtype
    device: torch.device
    autocast: Optional[torch.dtype]  # the autocast dtype in force, None when off


class CachedGraph(NamedTuple):
    """A replayable forward and the window tables its graph reads (kept alive with it)."""
    replay: Forward
    tables: dict[int, WindowGeometry]


class GraphReplay:
    """A captured CUDA graph with its static input and outputs.

    Calling it copies ``images`` into the static input, replays the graph and
    returns copies of the static outputs (the next replay overwrites them).
    """

    def __init__(self, graph: 'torch.cuda.CUDAGraph', static_input: Tensor,
                 static_outputs: list[Tensor]):
        self.graph = graph
        self.static_input = static_input
        self.static_outputs = static_outputs

    def __call__(self, images: Tensor) -> list[Tensor]:
        self.static_input.copy_(images)
        self.graph.replay()
        return [out.clone() for out in self.static_outputs]


def capture_cuda_graph(forward: Forward, example: Tensor,
                       warmup: int = WARMUP_RUNS) -> GraphReplay:
    """Capture ``forward`` at the shape and dtype of ``example`` (a CUDA tensor) as a graph.

    ``forward`` runs ``warmup`` times eagerly on a side stream first, which builds
    the backbone's cached window tables and initialises the libraries' workspaces
    outside the capture. Under autocast, the casts of the weights are captured
    too: autocast's cache of cast weights, freed when its context ends, is off.
    """
    if example.device.type != 'cuda':
        raise DeploymentError(f'CUDA graphs need the input on a CUDA device, got {example.device}')
    dtype = autocast_dtype('cuda')
    no_cast_cache = nullcontext() if dtype is None else torch.autocast(
        'cuda', dtype=dtype, cache_enabled=False)
    with torch.inference_mode(False):  # a buffer later calls may write in any grad mode
        static_input = example.detach().clone()
    side = torch.cuda.Stream(example.device)
    side.wait_stream(torch.cuda.current_stream(example.device))
    with no_cast_cache:
        with torch.cuda.stream(side):
            for _ in range(warmup):
                forward(static_input)
        torch.cuda.current_stream(example.device).wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            static_outputs = forward(static_input)
    return GraphReplay(graph, static_input, list(static_outputs))


class CudaGraphBackbone(nn.Module):
    """A :class:`SparseSwinTransformer` whose inference forward replays CUDA graphs.

    The first call at a configuration (the backbone's ``sparsity``), input
    shape, dtype and autocast state captures one graph; later calls with the
    same key copy the images into the graph's static input and replay it, so
    which windows are kept still follows each image. At most ``max_graphs``
    graphs are kept, the least recently used one is dropped past that.

    The graphs read the backbone's weights where they are: weights loaded in
    place (``load_state_dict``) take effect, but after moving the backbone or
    replacing its parameters call :meth:`reset`. Outputs do not track
    gradients, and a backbone in training mode is refused.

    Args:
        backbone: the backbone, in eval mode; it is shared, not copied.
        max_graphs: how many captured graphs to keep.
        capturer: makes a replayable forward from a forward and an example input
            (default :func:`capture_cuda_graph`).
    """

    def __init__(self, backbone: SparseSwinTransformer, max_graphs: int = MAX_CUDA_GRAPHS,
                 capturer: Capturer = capture_cuda_graph):
        if max_graphs < 1:
            raise ValueError(f'max_graphs must be at least 1, got {max_graphs}')
        if capturer is capture_cuda_graph and not torch.cuda.is_available():
            raise DeploymentError('CUDA graphs need a CUDA device, and torch.cuda.is_available() '
                                  'is False')
        super().__init__()
        self.backbone = backbone
        self.max_graphs = max_graphs
        self.capturer = capturer
        self.graphs: 'OrderedDict[Hashable, CachedGraph]' = OrderedDict()

    def key(self, images: Tensor) -> GraphKey:
        """The key of the graph that serves ``images`` at the backbone's configuration."""
        return GraphKey(self.backbone.block_ratios, bool(self.backbone.score_before_patch_norm),
                        tuple(images.shape), images.dtype, images.device,
                        autocast_dtype(images.device.type))

    def forward(self, images: Tensor) -> list[Tensor]:
        if self.backbone.training:
            raise DeploymentError('CUDA graphs capture inference only: call .eval() on the '
                                  'backbone first')
        key = self.key(images)
        cached = self.graphs.get(key)
        with torch.no_grad():
            if cached is None:
                with retain_geometries() as tables:
                    replay = self.capturer(
                        lambda x: self.backbone.forward_at(x, key.block_ratios), images)
                cached = self.graphs[key] = CachedGraph(replay, tables)
                if len(self.graphs) > self.max_graphs:
                    self.graphs.popitem(last=False)
            else:
                self.graphs.move_to_end(key)
            return cached.replay(images)

    def reset(self) -> None:
        """Drop every captured graph (the next calls capture again)."""
        self.graphs.clear()
