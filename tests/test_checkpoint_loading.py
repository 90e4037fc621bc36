"""A file that is not a readable checkpoint stops with one error that names it.

Only inside ``clear_checkpoint_errors`` (the tools, the package's own loading):
outside it mmengine's own loader reads local files.
"""
import pytest
import torch
from mmengine.runner import CheckpointLoader, load_checkpoint

from sparsevit import CheckpointError, clear_checkpoint_errors
from sparsevit.checkpoint_loading import read_checkpoint
from sparsevit.environment import version_tuple


@pytest.fixture
def checkpoint(tmp_path):
    torch.save({'state_dict': torch.nn.Linear(4, 2).state_dict()}, tmp_path / 'good.pth')
    return tmp_path / 'good.pth'


def test_a_good_checkpoint_loads_through_mmengine(checkpoint):
    mmengine_loader = CheckpointLoader._schemes['']
    assert mmengine_loader is not read_checkpoint  # importing sparsevit leaves it alone
    model = torch.nn.Linear(4, 2)
    with clear_checkpoint_errors():
        assert CheckpointLoader._schemes[''] is read_checkpoint
        load_checkpoint(model, str(checkpoint), strict=True)
    assert CheckpointLoader._schemes[''] is mmengine_loader
    assert torch.equal(model.weight, torch.load(checkpoint)['state_dict']['weight'])


@pytest.mark.parametrize('damage, reason', [
    (lambda data: data[:len(data) // 2], 'the file ends too early'),
    (lambda data: b'', 'the file ends too early'),
    (lambda data: b'model weights, in words\n', r'not a PyTorch file \(unpickling failed'),
])
def test_broken_files_are_named(checkpoint, tmp_path, damage, reason):
    broken = tmp_path / 'broken.pth'
    broken.write_bytes(damage(checkpoint.read_bytes()))
    message = rf'{broken} is not a readable checkpoint: .*{reason}'
    mmengine_loader = CheckpointLoader._schemes['']
    with pytest.raises(CheckpointError, match=message):
        with clear_checkpoint_errors():
            load_checkpoint(torch.nn.Linear(4, 2), str(broken))
    assert CheckpointLoader._schemes[''] is mmengine_loader  # back, after the error too


def test_outside_the_block_mmengine_reports_as_it_does(checkpoint, tmp_path):
    broken = tmp_path / 'broken.pth'
    broken.write_bytes(checkpoint.read_bytes()[:100])
    with pytest.raises(RuntimeError, match='PytorchStreamReader') as raised:  # torch's own
        load_checkpoint(torch.nn.Linear(4, 2), str(broken))
    assert not isinstance(raised.value, CheckpointError)


def test_usable_as_a_decorator_and_nested(checkpoint):
    mmengine_loader = CheckpointLoader._schemes['']

    @clear_checkpoint_errors()
    def load():
        with clear_checkpoint_errors():
            load_checkpoint(torch.nn.Linear(4, 2), str(checkpoint))
        return CheckpointLoader._schemes['']

    assert load() is read_checkpoint  # the inner block restored the outer one's loader
    assert CheckpointLoader._schemes[''] is mmengine_loader


class Arbitrary:
    pass


@pytest.mark.skipif(version_tuple(torch.__version__) < (2, 6),
                    reason='torch < 2.6 unpickles any object by default')
def test_objects_safe_loading_refuses_are_named(tmp_path):
    torch.save({'payload': Arbitrary()}, tmp_path / 'objects.pth')
    with pytest.raises(CheckpointError, match=r'objects.pth is not a readable checkpoint: it holds '
                       r'a .*Arbitrary object, which safe \(weights-only\) loading refuses'):
        read_checkpoint(str(tmp_path / 'objects.pth'))


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='checkpoint .*nowhere.pth does not exist'):
        read_checkpoint(str(tmp_path / 'nowhere.pth'))
