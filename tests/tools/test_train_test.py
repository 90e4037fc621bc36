"""tools/train.py and tools/test.py: resume from an mmengine checkpoint under torch's safe
loading, and one line for a file that is not a checkpoint (a small task of plain mmengine)."""
import os
import subprocess
import sys

import pytest
from mmengine.runner import CheckpointLoader

from sparsevit import CheckpointError

from ..helpers import REPO
from ..helpers import load_tool as tool

TASK = '''
import torch
from mmengine.evaluator import BaseMetric
from mmengine.model import BaseModel
from mmengine.registry import DATASETS, METRICS, MODELS


@MODELS.register_module()
class ToyRegressor(BaseModel):

    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(2, 1)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        out = self.linear(torch.stack(inputs))
        return dict(loss=out.pow(2).mean()) if mode == 'loss' else list(out)


@DATASETS.register_module()
class ToyPoints(torch.utils.data.Dataset):
    metainfo = dict()

    def __len__(self):
        return 4

    def __getitem__(self, index):
        return dict(inputs=torch.full((2,), float(index)))


@METRICS.register_module()
class ToyMeanOutput(BaseMetric):

    def process(self, data_batch, data_samples):
        self.results.extend(float(out) for out in data_samples)

    def compute_metrics(self, results):
        return dict(mean_output=sum(results) / len(results))
'''

CONFIG = '''
custom_imports = dict(imports=['sparsevit', 'toy_task'], allow_failed_imports=False)
model = dict(type='ToyRegressor')
loader = dict(dataset=dict(type='ToyPoints'), batch_size=2, num_workers=0,
              sampler=dict(type='DefaultSampler', shuffle=False),
              collate_fn=dict(type='pseudo_collate'))
train_dataloader = test_dataloader = loader
train_cfg = dict(by_epoch=False, max_iters=2)
test_cfg = dict()
test_evaluator = dict(type='ToyMeanOutput')
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.01))
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=2, by_epoch=False,
                                     backend_args=dict(backend='atomic_local')))
'''


@pytest.fixture
def task(tmp_path, monkeypatch):
    (tmp_path / 'toy_task.py').write_text(TASK)
    (tmp_path / 'toy.py').write_text(CONFIG)
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path / 'toy.py'


def run(name: str, task, run_id: str, *args: str, options: tuple = ()):
    """``tools/<name>.py`` on ``task``, with a work dir and an experiment name of its own, in
    this test and among all tests (runs started in the same second would share mmengine's log
    folder, logger and visualizer otherwise)."""
    return tool(name).main([str(task), *args, '--work-dir', str(task.parent / run_id),
                            '--cfg-options', f'experiment_name={task.parent.name}_{run_id}',
                            *options])


def test_resume_and_test_an_mmengine_checkpoint(task):
    run('train', task, 'first')
    assert (task.parent / 'first' / 'iter_2.pth').is_file()
    run('train', task, 'resumed', '--resume', str(task.parent / 'first' / 'iter_2.pth'),
        options=('train_cfg.max_iters=4', ))  # loaded with torch's weights-only default
    saved = sorted(path.name for path in (task.parent / 'resumed').glob('*.pth'))
    assert saved == ['iter_4.pth']  # went on from iteration 2
    metrics = run('test', task, 'test', str(task.parent / 'resumed' / 'iter_4.pth'))
    assert set(metrics) == {'mean_output'}


def test_unreadable_checkpoints_stop_with_one_line(task, tmp_path):
    run('train', task, 'first')
    truncated = tmp_path / 'truncated.pth'
    truncated.write_bytes((tmp_path / 'first' / 'iter_2.pth').read_bytes()[:1000])
    mmengine_loader = CheckpointLoader._schemes['']
    message = f'{truncated} is not a readable checkpoint'
    with pytest.raises(CheckpointError, match=message):
        run('train', task, 'resumed', '--resume', str(truncated))
    with pytest.raises(CheckpointError, match=message):
        run('test', task, 'test', str(truncated))
    assert CheckpointLoader._schemes[''] is mmengine_loader  # the tools put it back
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(tmp_path), *filter(None, [os.environ.get('PYTHONPATH')])]))
    done = subprocess.run([sys.executable, str(REPO / 'tools' / 'train.py'), str(task),
                           '--resume', str(truncated), '--work-dir', str(tmp_path / 'cli')],
                          capture_output=True, text=True, env=env)
    assert done.returncode == 1 and 'Traceback' not in done.stderr, done.stderr
    assert done.stderr.strip().splitlines()[-1] == f'error: {message}: the file ends too early ' \
        '(truncated?)'
