import subprocess
import sys

import pytest
import torch
from mmengine.fileio import get_file_backend

from sparsevit.fileio import AtomicLocalBackend, atomic_open, atomic_torch_save, dump_json


def test_atomic_open_replaces_only_on_success(tmp_path):
    target = tmp_path / 'result.json'
    dump_json({'a': 1}, target)
    with pytest.raises(RuntimeError, match='killed'):
        with atomic_open(target) as f:
            f.write('{"half": ')
            raise RuntimeError('killed')
    assert target.read_text() == '{\n  "a": 1\n}\n'
    assert [p.name for p in tmp_path.iterdir()] == ['result.json']  # no temporary left


def test_atomic_torch_save_round_trip(tmp_path):
    atomic_torch_save({'w': torch.ones(2)}, tmp_path / 'sub' / 'ckpt.pth')
    assert torch.equal(torch.load(tmp_path / 'sub' / 'ckpt.pth')['w'], torch.ones(2))


def test_mmengine_backend_writes_atomically(tmp_path, monkeypatch):
    backend = get_file_backend(str(tmp_path), backend_args=dict(backend='atomic_local'))
    assert isinstance(backend, AtomicLocalBackend)
    backend.put(b'first', tmp_path / 'epoch_1.pth')
    backend.put_text('text', tmp_path / 'note.txt')
    assert (tmp_path / 'epoch_1.pth').read_bytes() == b'first'
    assert (tmp_path / 'note.txt').read_text() == 'text'

    def dying_fsync(fd):
        raise OSError('killed while saving')

    monkeypatch.setattr('os.fsync', dying_fsync)
    with pytest.raises(OSError, match='killed while saving'):
        backend.put(b'second, half written', tmp_path / 'epoch_1.pth')
    assert (tmp_path / 'epoch_1.pth').read_bytes() == b'first'


PLOTS = '''
import sys
import matplotlib
matplotlib.use('svg')  # the importing program's own choice
import numpy as np
import torch
from sparsevit import SparseSwinTransformer
from sparsevit.search.evolution import Candidate
from sparsevit.search.plot import plot_search
from sparsevit.visualization import draw_windows
out = sys.argv[1]
points = [Candidate((0.1,), 10.0, 0.5), Candidate((0.2,), 8.0, 0.4), Candidate((0.5,), 4.0)]
plot_search(points, points[:2], points[0], (5.0, 12.0), 'mAP', out + '/search.png')
backbone = SparseSwinTransformer(embed_dims=24, depths=(2, 2, 2, 2), num_heads=(1, 2, 4, 8),
                                 window_size=4, sparsity=[0.5, 0, 0, 0]).eval()
with torch.no_grad(), backbone.recording_windows() as forwards:
    backbone(torch.randn(1, 3, 64, 64))
draw_windows(np.zeros((64, 64, 3), np.uint8), forwards[0], 4, 4, out + '/w.png')
pyplot = sys.modules.get('matplotlib.pyplot')  # mmdet imports it; it must hold no figure of ours
print(matplotlib.get_backend(), len(pyplot.get_fignums()) if pyplot else 0)
'''


def test_plots_render_without_touching_the_global_backend(tmp_path):
    result = subprocess.run([sys.executable, '-c', PLOTS, str(tmp_path)], capture_output=True,
                            text=True, check=True)
    assert result.stdout.split() == ['svg', '0']
    for name in ('search.png', 'w.png'):
        assert (tmp_path / name).read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
