"""Helpers shared by the tests: the repository root, tool scripts as modules, a free port, the
``mim`` command, and the BEVDet-Tiny config at test size."""
import importlib.util
import shutil
import socket
import sys
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[1]
BEVDET_CONFIG = REPO / 'configs' / 'bevdet' / 'bevdet-tiny_sparse-swin-t_8xb8-24e_nus-3d.py'


def load_tool(name: str) -> ModuleType:
    """``tools/<name>.py`` as a module, e.g. ``load_tool('analysis/benchmark_latency')``."""
    path = REPO / 'tools' / f'{name}.py'
    spec = importlib.util.spec_from_file_location(Path(name).name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def free_port() -> int:
    """A TCP port on localhost that nothing listens on, for a process group's rendezvous."""
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def mim_command() -> str:
    """The ``mim`` console script of this interpreter's environment, else the one on PATH (an
    environment installed with ``pip --target``, as on the GPU machine)."""
    beside = Path(sys.executable).parent / 'mim'
    found = str(beside) if beside.exists() else shutil.which('mim')
    assert found, f'no mim command beside {sys.executable} or on PATH'
    return found


def small_bevdet(image_size: tuple[int, int]) -> dict:
    """Overrides of BEVDET_CONFIG's ``model``: its composition with small widths (CPU tests).

    The backbone is a 2-2-2-2 sparse Swin of width 24 without pretrained weights; the view
    transformer takes ``image_size`` (height, width) images.
    """
    return dict(
        img_backbone=dict(init_cfg=None, convert_weights=False, embed_dims=24,
                          depths=(2, 2, 2, 2), num_heads=(1, 2, 4, 8), window_size=4),
        img_neck=dict(in_channels=(96, 192), out_channels=32),
        view_transformer=dict(in_channels=32, out_channels=16, image_size=tuple(image_size)),
        bev_backbone=dict(in_channels=16, channels=(32, 64, 128)),
        bev_neck=dict(in_channels=(32, 128), mid_channels=64, out_channels=32),
        bbox_head=dict(in_channels=32, share_conv_channel=32, bbox_coder=dict(max_num=100)),
        test_cfg=dict(max_per_img=100, pre_max_size=200, post_max_size=50))


def forget_visualizers() -> None:
    """Drop mmengine's visualizer instances. mmdet's configs name theirs ``'visualizer'``, and
    mmengine hands a new runner the instance of that name built before, still writing into
    the folders of that earlier run (which a test or a failed tool may have removed)."""
    from mmengine.visualization import Visualizer
    classes = [Visualizer]
    while classes:
        cls = classes.pop()
        classes.extend(cls.__subclasses__())
        cls._instance_dict.clear()
