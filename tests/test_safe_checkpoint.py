"""Checkpoints saved by mmengine load on torch >= 2.6 without any user setting.

torch 2.6 made ``torch.load`` weights-only by default; before it mmengine's
checkpoints load as they are, and the tests of the allow-list are skipped.
"""
import pickle
import subprocess
import sys
import uuid

import numpy as np
import pytest
import torch
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch import nn
from torch.utils.data import DataLoader

import sparsevit  # noqa: F401  (import allows the mmengine checkpoint types)
from sparsevit.environment import version_tuple
from sparsevit.safe_checkpoint import allow_mmengine_checkpoints

weights_only_default = pytest.mark.skipif(
    version_tuple(torch.__version__) < (2, 6), reason='torch < 2.6 loads all pickles by default')


class ToyModel(BaseModel):

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 1)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        out = self.linear(torch.stack(inputs))
        return {'loss': out.pow(2).mean()} if mode == 'loss' else out


def run(work_dir, max_iters, resume_from=None):
    loader = DataLoader([torch.randn(2) for _ in range(8)], batch_size=2,
                        collate_fn=lambda batch: dict(inputs=batch))
    runner = Runner(
        model=ToyModel(), work_dir=str(work_dir), train_dataloader=loader,
        experiment_name=uuid.uuid4().hex,  # runners of one second would share a visualizer
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        train_cfg=dict(by_epoch=False, max_iters=max_iters),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=2, by_epoch=False)),
        load_from=resume_from, resume=resume_from is not None)
    runner.train()
    return runner


@pytest.fixture(scope='module')
def runner_checkpoint(tmp_path_factory):
    work_dir = tmp_path_factory.mktemp('toy')
    run(work_dir, max_iters=2)
    return work_dir / 'iter_2.pth'


@weights_only_default
def test_plain_torch_load_fails_without_the_package(runner_checkpoint):
    code = f'import torch; torch.load({str(runner_checkpoint)!r})'
    result = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
    assert result.returncode != 0 and 'Weights only load failed' in result.stderr


def test_weights_only_load_and_resume_work_with_the_package(runner_checkpoint, tmp_path):
    ckpt = torch.load(runner_checkpoint)  # weights_only=True, the torch default
    assert ckpt['meta']['iter'] == 2 and 'message_hub' in ckpt
    runner = run(tmp_path, max_iters=4, resume_from=str(runner_checkpoint))
    assert runner.iter == 4


class Arbitrary:
    pass


@weights_only_default
@pytest.mark.parametrize('payload', [
    Arbitrary(),
    np.array([Arbitrary()], dtype=object),  # arrays and scalars: bool and numeric dtypes only
    np.array(['text']),
])
def test_other_objects_stay_refused(tmp_path, payload):
    torch.save({'payload': payload}, tmp_path / 'unsafe.pth')
    with pytest.raises(pickle.UnpicklingError, match='Weights only load failed'):
        torch.load(tmp_path / 'unsafe.pth')


@weights_only_default
def test_numeric_numpy_values_load(tmp_path):
    values = dict(best=np.float32(0.5), flag=np.bool_(True), counts=np.arange(3, dtype=np.uint8))
    torch.save(values, tmp_path / 'numpy.pth')
    loaded = torch.load(tmp_path / 'numpy.pth')
    assert loaded['best'] == np.float32(0.5) and loaded['flag']
    assert loaded['counts'].tolist() == [0, 1, 2] and loaded['counts'].dtype == np.uint8


class SneakyLookup:

    def __reduce__(self):
        from mmengine.logging import HistoryBuffer
        return getattr, (HistoryBuffer, 'update')


@weights_only_default
def test_getattr_in_a_pickle_serves_only_statistics_methods(tmp_path):
    torch.save({'payload': SneakyLookup()}, tmp_path / 'lookup.pth')
    with pytest.raises(pickle.UnpicklingError, match=r"refusing getattr\(.*'update'\)"):
        torch.load(tmp_path / 'lookup.pth')


@pytest.mark.skipif(not hasattr(torch.serialization, 'get_safe_globals'),
                    reason='this torch has no allow-list to compare')
def test_nothing_to_allow_on_a_torch_without_an_allow_list(monkeypatch):
    before = list(torch.serialization.get_safe_globals())
    with monkeypatch.context() as patch:  # torch < 2.4: mmengine's plain torch.load reads all
        patch.delattr(torch.serialization, 'add_safe_globals')
        allow_mmengine_checkpoints()
    assert torch.serialization.get_safe_globals() == before
