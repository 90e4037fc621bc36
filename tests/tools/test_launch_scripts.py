"""The slurm and torchrun launch scripts, run against stub ``srun`` / python that record their
arguments (no cluster needed)."""
import os
import subprocess
from pathlib import Path

import pytest

from ..helpers import REPO

RECORDER = '''#!/usr/bin/env bash
{ printf '%s\\n' "$@"; echo "PYTHONPATH=$PYTHONPATH"; } > "$RECORD"
'''


@pytest.fixture
def stubs(tmp_path):
    """A folder with a recording ``srun`` and a recording python, and the environment."""
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    for name in ('srun', 'python'):
        (bin_dir / name).write_text(RECORDER)
        (bin_dir / name).chmod(0o755)
    env = dict(os.environ, PATH=f'{bin_dir}:{os.environ["PATH"]}', RECORD=str(tmp_path / 'args'),
               PYTHON=str(bin_dir / 'python'))
    for name in ('GPUS', 'GPUS_PER_NODE', 'CPUS_PER_TASK', 'SRUN_ARGS', 'PYTHONPATH'):
        env.pop(name, None)
    return env, tmp_path / 'args'


def run(script: str, *args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(['bash', str(REPO / 'tools' / script), *args], env=env, text=True,
                          capture_output=True)


def test_slurm_train_passes_the_job_shape_and_the_tool_arguments(stubs):
    env, record = stubs
    env.update(GPUS='16', GPUS_PER_NODE='8', CPUS_PER_TASK='4',
               SRUN_ARGS='--quotatype=auto --time=2:00:00')
    done = run('slurm_train.sh', 'dev', 'saa', 'my_config.py', 'work_dirs/a', '--amp', env=env)
    assert done.returncode == 0, done.stderr
    args = record.read_text().splitlines()
    assert args[:8] == ['--partition=dev', '--job-name=saa', '--gres=gpu:8', '--ntasks=16',
                        '--ntasks-per-node=8', '--cpus-per-task=4', '--kill-on-bad-exit=1',
                        '--quotatype=auto']
    assert args[8] == '--time=2:00:00' and args[9] == env['PYTHON'] and args[10] == '-u'
    assert args[11:-1] == [str(REPO / 'tools' / 'train.py'), 'my_config.py', '--work-dir',
                           'work_dirs/a', '--amp', '--launcher', 'slurm']
    assert args[-1] == f'PYTHONPATH={REPO}/projects/sparsevit'


def test_slurm_defaults_test_and_search(stubs):
    env, record = stubs
    assert run('slurm_test.sh', 'p', 'j', 'c.py', 'ckpt.pth', '--sparsity', '[0.5, 0, 0, 0]',
               env=env).returncode == 0
    args = record.read_text().splitlines()
    assert args[2:6] == ['--gres=gpu:8', '--ntasks=8', '--ntasks-per-node=8', '--cpus-per-task=5']
    assert args[7:9] == [env['PYTHON'], '-u'] and Path(args[9]).name == 'test.py'
    assert args[10:-1] == ['c.py', 'ckpt.pth', '--sparsity', '[0.5, 0, 0, 0]', '--launcher',
                           'slurm']
    assert run('slurm_search.sh', 'p', 'j', 'c.py', 'saa.pth', '--latency-min', '30',
               '--latency-max', '42', env=env).returncode == 0
    args = record.read_text().splitlines()
    assert Path(args[9]).name == 'search.py' and args[10:-3] == [
        'c.py', 'saa.pth', '--latency-min', '30', '--latency-max', '42']


def test_slurm_scripts_refuse_missing_arguments(stubs):
    env, record = stubs
    for script in ('slurm_train.sh', 'slurm_test.sh', 'slurm_search.sh'):
        done = run(script, 'dev', 'job', 'c.py', env=env)
        assert done.returncode == 2 and 'usage:' in done.stderr
    assert not record.exists()


def test_dist_train_runs_torchrun_with_the_stack_python(stubs):
    env, record = stubs
    env.update(NNODES='2', NODE_RANK='1', MASTER_ADDR='10.0.0.1', PORT='29600')
    assert run('dist_train.sh', 'c.py', '4', '--amp', env=env).returncode == 0
    assert record.read_text().splitlines()[:-1] == [
        '-m', 'torch.distributed.run', '--nnodes=2', '--node_rank=1', '--master_addr=10.0.0.1',
        '--nproc_per_node=4', '--master_port=29600', str(REPO / 'tools' / 'train.py'), 'c.py',
        '--launcher', 'pytorch', '--amp']


def test_dist_test_runs_torchrun_with_the_checkpoint_and_the_defaults(stubs):
    env, record = stubs
    for name in ('NNODES', 'NODE_RANK', 'MASTER_ADDR', 'PORT'):
        env.pop(name, None)
    assert run('dist_test.sh', 'c.py', 'ckpt.pth', '2', '--sparsity', '[0.5, 0, 0, 0]',
               env=env).returncode == 0
    assert record.read_text().splitlines()[:-1] == [
        '-m', 'torch.distributed.run', '--nnodes=1', '--node_rank=0', '--master_addr=127.0.0.1',
        '--nproc_per_node=2', '--master_port=29500', str(REPO / 'tools' / 'test.py'), 'c.py',
        'ckpt.pth', '--launcher', 'pytorch', '--sparsity', '[0.5, 0, 0, 0]']
