"""tools/analysis/latency_table.py: measure and check a tiny table on each runtime, and search
with it (no timing assertions: the accuracy targets live in benchmarks/latency_tables.md)."""
import json
import math
import subprocess
import sys

import pytest

from sparsevit.analysis import allocator
from sparsevit.analysis.allocator import ALLOCATOR_VARIABLES, KEPT_MEMORY
from sparsevit.analysis.latency import RatioDrift
from sparsevit.latency_tables import LatencyTable, LatencyTableError
from sparsevit.latency_tables.measure import check_configurations

from ..helpers import REPO, free_port
from ..helpers import load_tool as tool
from .test_search import FAST, WIDE, candidates, saa  # noqa: F401  (the module-scoped SAA model)

TINY_CONFIG = ("model = dict(backbone=dict(type='SparseSwinTransformer', embed_dims=24, "
               "depths=(2, 2, 4, 2), num_heads=(1, 2, 4, 8), window_size=4, "
               "drop_path_rate=0.0, init_cfg=None))\n")
QUICK = ['--shape', '64', '64', '--batch', '2', '--threads', '1', '--warmup', '1', '--runs', '1']


def measure(tmp_path, runtime: str) -> LatencyTable:
    config = tmp_path / 'tiny.py'
    config.write_text(TINY_CONFIG)
    out = tmp_path / f'{runtime}.json'
    tool('analysis/latency_table').main([str(config), '--runtime', runtime, *QUICK,
                                         '--choices', '0', '0.5', '--out', str(out)])
    return LatencyTable.load(out)


def check_runtime(tmp_path, runtime: str, capfd) -> None:
    table = measure(tmp_path, runtime)
    p = table.protocol
    configurations = 2 if runtime == 'pytorch' else 13  # in place: dense and uniform 0.5
    assert (p['runtime'], p['threads'], p['batch'], p['shape'], p['dtype']) == \
        (runtime, 1, 2, [64, 64], 'fp32')
    assert p['configurations'] == configurations and p['measure_seconds'] >= 0 and p['date']
    assert p['drift'] is None  # one timed round: too few to tell the halves apart
    assert p['device_name'] and p['runtime_version'].split()[0] in ('torch', 'onnxruntime')
    assert table.data['backbone']['architecture']['depths'] == [2, 2, 4, 2]
    assert len(table.fingerprint) == 16
    assert [s['windows'] for s in table.data['stages']] == [16, 4, 1, 1]
    assert table.data['stages'][0]['kept_windows'] == {'0.0': 16, '0.5': 8}
    # the table predicts its dense backbone; by differences, it reproduces every configuration
    # it timed (arithmetic, not timing)
    measured = table.data['measured_ms']
    assert table.predict(None) == pytest.approx(table.dense_ms)
    if runtime != 'pytorch':
        assert table.dense_ms == pytest.approx(measured['dense'])
        for stage in range(4):
            config = [0.5 if s == stage else 0.0 for s in range(4)]
            assert table.predict(config) == pytest.approx(measured[f'stage{stage} 0.5'])
    progress = capfd.readouterr().err  # progress while measuring
    assert f'measuring {configurations} configurations on' in progress
    assert 'measured in' in progress

    result = tool('analysis/latency_table').main(['--check', table.source, '--configs', '3',
                                                  '--warmup', '1', '--runs', '1'])
    names = [row['name'] for row in result['rows']]
    assert names == ['dense', 'random-0', 'random-1', 'random-2', 'uniform-0.5']
    assert all(row['measured_ms'] > 0 and math.isfinite(row['scaled_error'])
               for row in result['rows'])  # no timing assertion: the figures are noise here
    assert set(result['scaled']) == {'median_abs', 'max_abs', 'mean'}
    assert 'median |error|' in capfd.readouterr().out


def test_measure_and_check_a_tiny_table_with_pytorch_eager(tmp_path, capfd):
    check_runtime(tmp_path, 'pytorch', capfd)


def test_table_and_check_record_the_allocator_settings_and_a_change_is_warned(
        tmp_path, capfd, monkeypatch):
    for name in ALLOCATOR_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv('MALLOC_TRIM_THRESHOLD_', '1073741824')
    table = measure(tmp_path, 'pytorch')
    assert table.protocol['allocator'] == {'MALLOC_TRIM_THRESHOLD_': '1073741824'}
    check = ['--check', table.source, '--configs', '1', '--warmup', '1', '--runs', '1']
    capfd.readouterr()
    assert tool('analysis/latency_table').main(check)['allocator'] == table.protocol['allocator']
    assert 'WARNING' not in capfd.readouterr().err
    monkeypatch.delenv('MALLOC_TRIM_THRESHOLD_')
    assert tool('analysis/latency_table').main(check)['allocator'] == {}
    warning = capfd.readouterr().err
    assert "measured with the allocator settings {'MALLOC_TRIM_THRESHOLD_': '1073741824'}, " \
           'this check runs with {}' in warning


def test_a_table_measured_reusing_freed_memory_is_checked_so(tmp_path, capfd, monkeypatch):
    for name in ALLOCATOR_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    table = measure(tmp_path, 'pytorch')  # --allocator keep-freed, the default
    assert table.protocol['allocator'] == {'mallopt': KEPT_MEMORY}
    monkeypatch.setattr(allocator, '_applied', {})  # as in a new process
    capfd.readouterr()
    check = ['--check', table.source, '--configs', '1', '--warmup', '1', '--runs', '1']
    assert tool('analysis/latency_table').main(check)['allocator'] == {'mallopt': KEPT_MEMORY}
    assert 'WARNING' not in capfd.readouterr().err


def test_a_table_or_check_timed_while_the_machine_changed_is_warned(tmp_path, capfd,
                                                                    monkeypatch):
    from sparsevit.latency_tables import measure as measure_module
    drifted = RatioDrift(0.1, 'uniform 0.5', 0.04)
    monkeypatch.setattr(measure_module, 'ratio_drift', lambda results, ref, baseline=None: drifted)
    table = measure(tmp_path, 'pytorch')
    drift = {'change': 0.1, 'configuration': 'uniform 0.5', 'noise': 0.04}
    assert table.protocol['drift'] == drift
    assert 'WARNING: the machine changed while the table was timed: uniform 0.5 moved by ' \
           '+10.0% against the dense backbone' in capfd.readouterr().err
    result = tool('analysis/latency_table').main(['--check', table.source, '--configs', '1',
                                                  '--warmup', '1', '--runs', '1'])
    assert result['drift'] == drift
    warnings = capfd.readouterr().err
    assert 'changed while the table was timed' in warnings
    assert 'changed while this check was timed' in warnings


@pytest.mark.slow
def test_measure_and_check_a_tiny_table_with_onnxruntime(tmp_path, capfd):
    pytest.importorskip('onnxruntime')
    check_runtime(tmp_path, 'onnxruntime', capfd)


@pytest.mark.slow
def test_measure_and_check_a_two_stage_table_with_torch_compile(tmp_path):
    """Two stages keep the compiles few: the whole dense backbone and 4 graphs of each stage
    for the table, then 3 whole configurations for the check."""
    config = tmp_path / 'two_stages.py'
    config.write_text(TINY_CONFIG.replace('depths=(2, 2, 4, 2), num_heads=(1, 2, 4, 8)',
                                          'depths=(2, 2), num_heads=(1, 2), strides=(4, 2), '
                                          'out_indices=(0, 1)'))
    out = tmp_path / 'compile.json'
    latency_table = tool('analysis/latency_table')
    latency_table.main([str(config), '--runtime', 'compile', *QUICK, '--choices', '0', '0.5',
                        '--out', str(out)])
    table = LatencyTable.load(out)
    assert table.protocol['runtime'] == 'compile' and table.protocol['configurations'] == 7
    assert table.predict([0.5, 0.0]) == pytest.approx(table.data['measured_ms']['stage0 0.5'])
    result = latency_table.main(['--check', str(out), '--configs', '1', '--warmup', '1',
                                 '--runs', '1'])
    assert [row['name'] for row in result['rows']] == ['dense', 'random-0', 'uniform-0.5']


def test_check_configurations_are_random_authors_and_uniform():
    from sparsevit.search_space import DEFAULT_CHOICES

    from ..latency_tables.known import known_table
    table = LatencyTable(known_table(depths=(2, 2, 6, 2), choices=DEFAULT_CHOICES))
    names = list(check_configurations(table, 2))
    assert names == ['dense', 'random-0', 'random-1', 'searched-0.3', 'searched-0.6',
                     'searched-0.7', 'uniform-0.3', 'uniform-0.5', 'uniform-0.6', 'uniform-0.8']


def test_bad_command_lines(tmp_path, capsys):
    latency_table = tool('analysis/latency_table')
    with pytest.raises(SystemExit):
        latency_table.main(['swin-t'])  # no --out
    with pytest.raises(SystemExit):
        latency_table.main(['nothing.py', '--out', str(tmp_path / 't.json')])
    with pytest.raises(LatencyTableError, match='not valid JSON'):
        (tmp_path / 'bad.json').write_text('nonsense')
        latency_table.main(['--check', str(tmp_path / 'bad.json')])
    with pytest.raises(SystemExit):  # a table is checked with its own allocator setting
        latency_table.parse_args(['--check', 't.json', '--allocator', 'default'])
    assert '--allocator does not go with it' in capsys.readouterr().err


@pytest.mark.slow
def test_search_predicts_from_a_table_and_refuses_another_shape(saa, tmp_path,  # noqa: F811
                                                                monkeypatch):
    config, checkpoint = saa
    table = tmp_path / 'table.json'
    tool('analysis/latency_table').main([str(config), '--shape', '128', '128', '--threads', '1',
                                         '--warmup', '1', '--runs', '1', '--out', str(table)])
    # one timed run on a busy machine may predict anything, negative too: a band that holds all
    wide = ['--latency-min', '-1000000', '--latency-max', '1000000']
    from sparsevit.search import TaskEvaluator

    def no_timing(*args, **kwargs):
        raise AssertionError('a candidate was timed')

    monkeypatch.setattr(TaskEvaluator, 'latencies', no_timing)
    monkeypatch.setattr(allocator, '_applied', {})  # as in a new process
    work_dir = tmp_path / 'search'
    files = tool('search').main([str(config), str(checkpoint), *wide, *FAST,
                                 '--latency-table', str(table), '--work-dir', str(work_dir)])
    assert allocator._applied == {}  # nothing timed, the allocator left alone
    predicted = LatencyTable.load(table)
    records = [json.loads(line) for line in (work_dir / 'search_log.jsonl').read_text()
               .splitlines()]
    assert records[0]['settings']['latency']['table'] == str(table.resolve())
    for record in records[1:]:
        if record['type'] == 'candidate':
            assert record['latency_ms'] == predicted.predict(record['sparsity'])
    best = json.loads(open(files['best.json']).read())
    assert best['latency_protocol']['table'] == str(table.resolve())
    # several ranks predict from the same table: the single process's search
    two = tmp_path / 'two_ranks'
    subprocess.run([sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node', '2',
                    '--master_port', str(free_port()), str(REPO / 'tools' / 'search.py'),
                    str(config), str(checkpoint), *wide, *FAST, '--latency-table', str(table),
                    '--work-dir', str(two), '--launcher', 'pytorch'],
                   check=True, cwd=tmp_path, capture_output=True)
    assert candidates(two) == candidates(work_dir)
    with pytest.raises(LatencyTableError, match='measured at input 128x128, the search asks 96x96'):
        tool('search').main([str(config), str(checkpoint), *WIDE, *FAST, '--latency-shape', '96',
                             '96', '--latency-table', str(table),
                             '--work-dir', str(tmp_path / 'other')])
    assert not (tmp_path / 'other').exists()
