import pytest
import torch
from mmengine.fileio import get_file_backend

from sparsevit.utils import AtomicLocalBackend, atomic_open, atomic_torch_save, dump_json


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
