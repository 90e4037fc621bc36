import json

import pytest
import torch

from sparsevit import SparsityError
from sparsevit.analysis.allocator import ALLOCATOR_VARIABLES, KEPT_MEMORY
from sparsevit.analysis.latency import DTYPES
from sparsevit.deployment import compile_backbone
from sparsevit.deployment.compiled import MIN_TORCH
from sparsevit.environment import version_tuple
from sparsevit.utils.cli import UsageError

from ..helpers import load_tool
from ..models.backbones.test_sparse_swin import cpu_autocast_supports


@pytest.fixture(scope='module')
def tool():
    return load_tool('analysis/benchmark_latency')


def test_times_configurations_against_mmdet_dense(tool, tmp_path, capsys):
    out = tmp_path / 'latency.json'
    result = tool.main(['--size', '64', '96', '--warmup', '1', '--runs', '3', '--threads', '1',
                        '--sparsity', 'dense', '--sparsity', 'searched-0.6',
                        '--sparsity', 'mine=[0.5, 0, 0.2, 0]', '--out', str(out)])
    printed = capsys.readouterr().out
    assert 'protocol: device=cpu' in printed and 'batch=1' in printed
    assert 'resolution=[64, 96]' in printed and 'dtype=fp32' in printed
    saved = json.loads(out.read_text())
    assert saved == json.loads(json.dumps(result))
    names = [row['name'] for row in saved['results']]
    assert names == ['mmdet dense', 'dense', 'searched-0.6', 'mine']
    rows = {row['name']: row for row in saved['results']}
    assert rows['dense']['ideal_ratio'] == rows['dense']['ratio_to_own_dense'] == 1.0
    assert rows['searched-0.6']['ideal_ratio'] < rows['mine']['ideal_ratio'] < 1.0
    assert rows['searched-0.6']['sparsity'] == [0.6, 0.0, [0.2, 0.2, 0.4, 0.4, 0.5, 0.5], 0.0]
    assert all(row['latency']['mean_ms'] > 0 and row['latency']['runs'] == 3
               for row in saved['results'])


@pytest.mark.parametrize('setting', ['keep-freed', 'default'])
def test_records_the_allocator_it_times_with(tool, setting, monkeypatch):
    for name in ALLOCATOR_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    result = tool.main(['--size', '64', '64', '--warmup', '0', '--runs', '1', '--threads', '1',
                        '--sparsity', 'dense', '--allocator', setting])
    expected = {'mallopt': KEPT_MEMORY} if setting == 'keep-freed' else {}
    assert result['protocol']['allocator'] == expected


@pytest.mark.parametrize('dtype', ['fp16', 'bf16'])
def test_half_precision_runs_mmdet_dense_too_under_autocast(tool, dtype, capsys):
    if not cpu_autocast_supports(DTYPES[dtype]):
        pytest.skip(f'this torch does not autocast to {dtype} on the CPU')
    result = tool.main(['--size', '32', '32', '--warmup', '0', '--runs', '1', '--dtype', dtype,
                        '--sparsity', 'uniform-0.5'])
    assert f'dtype={dtype}' in capsys.readouterr().out
    assert [row['name'] for row in result['results']] == ['mmdet dense', 'dense', 'uniform-0.5']
    assert all(row['latency']['mean_ms'] > 0 for row in result['results'])


def test_own_dense_path_is_always_timed(tool):
    result = tool.main(['--size', '32', '32', '--warmup', '0', '--runs', '1',
                        '--sparsity', 'uniform-0.5'])
    assert [row['name'] for row in result['results']] == ['mmdet dense', 'dense', 'uniform-0.5']


def test_config_source_and_bad_input(tool, tmp_path):
    with pytest.raises(SparsityError, match='sparsity fastest: unknown name'):
        tool.main(['--size', '32', '32', '--runs', '1', '--sparsity', 'fastest'])
    with pytest.raises(Exception, match='outside'):
        tool.main(['--size', '32', '32', '--runs', '1', '--sparsity', 'x=[1.5, 0, 0, 0]'])
    cfg = tmp_path / 'cfg.py'
    cfg.write_text("model = dict(backbone=dict(type='ResNet', depth=50))\n")
    with pytest.raises(UsageError, match='has no Swin backbone'):
        tool.main(['--config', str(cfg), '--runs', '1'])


@pytest.mark.skipif(version_tuple(torch.__version__) < MIN_TORCH, reason='needs torch >= 2.3')
def test_compiled_figures_beside_eager(tool, monkeypatch, capsys):
    torch._dynamo.reset()
    # dynamo's graphs run eagerly here (inductor is covered by tests/deployment/test_compiled.py)
    monkeypatch.setattr(tool, 'compile_backbone', lambda b: compile_backbone(b, backend='eager'))
    result = tool.main(['--size', '64', '96', '--warmup', '0', '--runs', '2', '--threads', '1',
                        '--compile', '--sparsity', 'dense', '--sparsity', 'uniform-0.5'])
    printed = capsys.readouterr().out
    assert 'dense compiled: ' in printed and 'uniform-0.5 compiled: ' in printed
    assert 'compiled=True' in printed and 'compiled ms' in printed
    rows = {row['name']: row for row in result['results']}
    assert 'compiled' not in rows['mmdet dense']
    assert rows['dense']['compiled_ratio_to_own_dense'] == 1.0
    for name in ('dense', 'uniform-0.5'):
        compiled = rows[name]['compiled']
        assert compiled['runs'] == 2 and compiled['mean_ms'] > 0
        assert rows[name]['compiled_vs_eager'] == pytest.approx(
            compiled['mean_ms'] / rows[name]['latency']['mean_ms'])


def test_parts_print_and_save_the_fixed_parts_scoring_blocks_and_proportion(tool, capsys):
    result = tool.main(['--size', '64', '64', '--batch', '2', '--warmup', '0', '--runs', '1',
                        '--threads', '1', '--sparsity', 'uniform-0.5', '--parts', '3'])
    printed = capsys.readouterr().out
    assert 'parts: ms per forward, 3 forwards each timed part by part' in printed
    assert result['protocol']['parts'] == 3
    rows = {row['name']: row for row in result['results']}
    assert 'parts' not in rows['mmdet dense']  # mmdet's Swin has no parts
    dense, pruned = rows['dense']['parts'], rows['uniform-0.5']['parts']
    for parts in (dense, pruned):
        assert parts['forwards'] == 3  # the untimed round left out
        assert parts['total_ms'] == pytest.approx(
            parts['fixed_ms'] + parts['scoring_ms'] + parts['blocks_ms'])
        assert parts['total_ms'] == pytest.approx(sum(parts['ms'].values()))
        assert parts['fixed_ms'] > 0 and parts['blocks_ms'] > 0
    assert set(dense['kept_shares'].values()) == {1.0}
    assert dense['proportional_blocks_ms'] == pytest.approx(dense['blocks_ms'])
    assert pruned['scoring_ms'] > 0  # the windows are ranked
    # 64x64 in 7x7 windows: stage 0 keeps 4 of 9, stage 1 2 of 4; stages 2 and 3 (one) none
    shares = pruned['kept_shares']
    assert shares['stage0 block0'] == pytest.approx(4 / 9) and shares['stage1 block1'] == 0.5
    assert shares['stage2 block0'] == shares['stage3 block1'] == 0.0
    assert 'stage2 block0' not in pruned['ms'] and 'stage0 block0' in pruned['ms']
    assert pruned['proportional_blocks_ms'] == pytest.approx(sum(
        ms * shares[part] for part, ms in dense['ms'].items() if ' block' in part))
    assert pruned['proportional_ratio_to_own_dense'] == pytest.approx(
        pruned['proportional_ms'] / dense['total_ms'])
    with pytest.raises(SystemExit):
        tool.parse_args(['--parts', '0'])
    with pytest.raises(SystemExit):
        tool.parse_args(['--whole-model', 'cfg.py', '--parts', '2'])


def test_dense_names_the_all_zero_configuration_only(tool):
    with pytest.raises(UsageError, match="'dense' names this backbone at all ratios 0"):
        tool.main(['--size', '32', '32', '--runs', '1', '--sparsity', 'dense=[0.5, 0, 0, 0]'])


def test_compile_refuses_more_configurations_than_it_keeps(tool):
    specs = [arg for r in range(9) for arg in ('--sparsity', f'uniform-0.{r}')]
    with pytest.raises(UsageError, match='--compile times at most 8 configurations'):
        tool.main(['--size', '32', '32', '--runs', '1', '--compile', *specs])
    with pytest.raises(SystemExit):
        tool.main(['--whole-model', 'cfg.py', '--compile'])


def test_profile_prints_and_saves_the_time_per_operator_category(tool, capsys):
    result = tool.main(['--size', '64', '64', '--warmup', '0', '--runs', '1', '--threads', '1',
                        '--sparsity', 'uniform-0.5', '--profile', '2'])
    printed = capsys.readouterr().out
    assert 'profile: operator self time per forward (ms), 2 profiled forwards each' in printed
    for row in result['results']:
        profile = row['profile']
        assert profile['calls'] == 2 and profile['total_ms'] > 0
        assert profile['categories']['matrix products'] > 0
    rows = {row['name']: row['profile']['categories'] for row in result['results']}
    assert rows['uniform-0.5']['selection and scoring'] > 0  # the windows are ranked
    with pytest.raises(SystemExit):
        tool.parse_args(['--profile', '0'])
