"""LatencyTable: prediction arithmetic, refusals, and unreadable files (no timing)."""
import json

import pytest

from sparsevit.latency_tables import LatencyTable, LatencyTableError
from sparsevit.latency_tables.measure import (in_place_plan, measurement_plan, solve_in_place,
                                              solve_table)
from sparsevit.sparsity import kept_windows

from .known import ARCHITECTURE, block_ms, known_table, scoring_ms, write_table


def test_prediction_is_fixed_plus_scoring_of_pruning_stages_plus_blocks():
    table = LatencyTable(known_table())
    assert table.predict(None) == table.dense_ms == 7.0 + 2 * 10 + 2 * 20 + 4 * 30 + 2 * 40
    config = [0.5, 0.0, [0.0, 0.0, 0.5, 0.5], 0.0]
    expected = (7.0 + scoring_ms(0) + 2 * block_ms(0, 0.5) + 2 * block_ms(1, 0.0)
                + scoring_ms(2) + 2 * block_ms(2, 0.0) + 2 * block_ms(2, 0.5)
                + 2 * block_ms(3, 0.0))
    assert table.predict(config) == expected == 7 + 1 + 10 + 40 + 3 + 60 + 30 + 80
    assert table.predict({'stage2.pair1': 0.5, 'stage0.pair0': 0.5}) == expected


def test_a_ratio_without_an_entry_is_refused_not_extrapolated():
    table = LatencyTable(known_table())
    with pytest.raises(LatencyTableError, match=r'stage 2 block 3 has ratio 0.3, for which .* '
                       r'has no entry \(it has \[0.0, 0.5\]\)'):
        table.predict([0.0, 0.0, [0.0, 0.0, 0.0, 0.3], 0.0])


@pytest.mark.parametrize('mismatch, message', [
    (dict(architecture=dict(ARCHITECTURE, embed_dims=96)),
     'another backbone architecture .*embed_dims 24 in the table, 96 in the model'),
    (dict(architecture=dict(ARCHITECTURE, depths=[2, 2, 6, 2])),
     'another backbone architecture .*depths'),
    (dict(shape=(672, 672)), 'measured at input 64x64, the search asks 672x672: search at '
     '64x64'),
    (dict(batch=6), 'measured at batch 1, the search asks batch 6'),
    (dict(choices=(0.0, 0.3, 0.5)),
     r'no entries for the ratios \[0.3\] .*choices include \[0.0, 0.3, 0.5\]'),
])
def test_a_table_for_another_model_shape_batch_or_choices_is_refused(mismatch, message):
    table = LatencyTable(known_table())
    with pytest.raises(LatencyTableError, match=message):
        table.check_compatible(**mismatch)


def test_a_table_serves_the_model_input_and_any_subset_of_its_choices():
    LatencyTable(known_table()).check_compatible(ARCHITECTURE, (64, 64), 1, (0.5, ))


@pytest.mark.parametrize('content, message', [
    ('ratios: 0.5', 'is not a latency table: not valid JSON'),
    ('{"format": "sparsevit-latency-table", "format_version": 1, "protoc',
     'is truncated: its JSON ends early'),
    ('[1, 2]', 'is not a latency table'),
    (json.dumps(dict(known_table(), format_version=99)),
     'format version 99; this version of sparsevit reads version 1: measure the table again'),
    (json.dumps({k: v for k, v in known_table().items() if k != 'stages'}),
     'is incomplete: it has no stages'),
])
def test_an_unreadable_table_file_gets_one_clear_error(tmp_path, content, message):
    path = tmp_path / 'table.json'
    path.write_text(content)
    with pytest.raises(LatencyTableError, match=message):
        LatencyTable.load(path)


def test_parts_below_zero_are_named_as_noise():
    assert LatencyTable(known_table()).noise_warning() is None
    noisy = known_table()
    noisy['stages'][1]['block_ms']['0.5'] = -10.0  # beyond 2% of the dense 267 ms
    noisy['stages'][3]['scoring_ms'] = -0.5  # within it
    noisy['fixed_ms'] = -50.0  # where stage graphs cost more than the whole graph: no noise
    warning = LatencyTable(noisy, 'noisy.json').noise_warning()
    assert warning.startswith('WARNING: 1 parts of noisy.json cost less than zero '
                              '(stage1 block at 0.5 -10.00 ms)')


@pytest.mark.parametrize('drift, warned', [
    (None, False),
    ({'change': 0.02, 'configuration': 'uniform 0.5', 'noise': 0.0}, False),  # under 3%
    ({'change': -0.08, 'configuration': 'uniform 0.5', 'noise': 0.10}, False),  # in the noise
    ({'change': -0.08, 'configuration': 'uniform 0.5', 'noise': 0.05}, True),
    ({'change': 0.05, 'configuration': 'uniform 0.5'}, True),  # recorded before the noise
])
def test_a_drift_beyond_three_percent_and_its_noise_is_warned(drift, warned):
    data = known_table()
    data['protocol']['drift'] = drift
    warnings = LatencyTable(data, 'drifted.json').warnings()
    assert len(warnings) == warned
    if warned:
        assert warnings[0].startswith('WARNING: the machine changed while the table was '
                                      'timed: uniform 0.5 moved by ')
        # the noise is named only where it was recorded
        assert ("own noise of 5.0%" in warnings[0]) == ('noise' in drift)


def test_a_written_table_reads_back(tmp_path):
    path = write_table(tmp_path / 'table.json')
    table = LatencyTable.load(path)
    assert table.predict([0.5] * 4) == LatencyTable(known_table()).predict([0.5] * 4)
    with pytest.raises(LatencyTableError, match='cannot read'):
        LatencyTable.load(tmp_path / 'missing.json')


def test_the_design_recovers_an_additive_model_exactly():
    """Times of the plan's configurations from a known additive model -> its parts."""
    depths, windows, choices = (2, 2, 6, 1), (64, 16, 4, 1), (0.0, 0.25, 0.5, 0.75)
    fixed, scoring = 5.0, (1.0, 2.0, 3.0, 4.0)

    def cost(stage, ratio):  # per block: a part per kept window and a part per block
        kept = kept_windows(windows[stage], ratio)
        return 0.0 if kept == 0 else 0.5 * (stage + 1) * kept + 0.25

    def model(ratios):
        return fixed + sum(scoring[s] * any(r > 0 for r in stage) + sum(cost(s, r) for r in stage)
                           for s, stage in enumerate(ratios))

    plan = measurement_plan(depths, windows, choices)
    assert len(plan) == 1 + 3 * (len(choices) + 1) + len(choices)  # no split for 1 block
    assert len(measurement_plan((2, 2, 6, 2), (1, 1, 1, 1), [0.1 * i for i in range(9)])) == 41
    solved_fixed, stages = solve_table({n: model(r) for n, r in plan.items()}, depths, choices)
    for s, entry in enumerate(stages[:3]):
        assert entry['scoring_ms'] == pytest.approx(scoring[s])
        assert entry['block_ms'] == pytest.approx({c: cost(s, c) for c in choices})
    # a one-block stage cannot tell its scoring from its dense block: the scoring moves to the
    # fixed part and to its pruned blocks, which predicts the same
    assert solved_fixed == pytest.approx(fixed + scoring[3])
    assert stages[3]['scoring_ms'] == 0.0
    for c in choices[1:]:
        assert stages[3]['block_ms'][c] - stages[3]['block_ms'][0.0] == \
            pytest.approx(scoring[3] + cost(3, c) - cost(3, 0.0))


def test_the_in_place_design_reads_the_parts_off_the_forwards():
    """Part costs of dense and uniform forwards -> the table's entries, exactly."""
    depths, choices = (2, 1), (0.0, 0.5, 0.75)
    plan = in_place_plan(depths, choices)
    assert list(plan) == ['dense', 'uniform 0.5', 'uniform 0.75']
    assert plan['uniform 0.75'] == ((0.75, 0.75), (0.75, ))

    def forward(ratio, checks):  # a block costs 10 / (1 + ratio) plus its index in the stage
        parts = {f'stage{s} block{i}': 10.0 / (1.0 + ratio) + i + s
                 for s, depth in enumerate(depths) for i in range(depth)}
        parts.update({f'stage{s} scoring': checks + ratio * (s + 1) for s in range(2)})
        parts.update(embed=3.0, **{'stage0 layout': 1.0})
        return parts

    parts = {'dense': forward(0.0, 0.1), 'uniform 0.5': forward(0.5, 0.1),
             'uniform 0.75': forward(0.75, 0.1)}
    # whole forwards: their parts and the rest, which moves by +-0.1 between configurations
    times = {name: sum(p.values()) + rest for (name, p), rest in zip(parts.items(),
                                                                     (0.4, 0.6, 0.5))}
    fixed, stages = solve_in_place(parts, times, depths, choices)
    assert stages[0]['block_ms'] == pytest.approx({c: 10.0 / (1.0 + c) + 0.5 for c in choices})
    assert stages[1]['block_ms'] == pytest.approx({c: 10.0 / (1.0 + c) + 1.0 for c in choices})
    assert stages[0]['scoring_ms'] == pytest.approx((0.5 + 0.75) / 2)
    assert stages[1]['scoring_ms'] == pytest.approx(2 * (0.5 + 0.75) / 2)
    # embed, layout, dense checks, the mean rest
    assert fixed == pytest.approx(3.0 + 1.0 + 0.2 + 0.5)
