import pytest
import torch

from sparsevit import SparseSwinTransformer
from sparsevit.analysis.latency import (BackboneTimer, LatencyProtocol, measure_interleaved,
                                        middle_half_mean, ratio_drift, summarize)


def test_middle_half_mean_drops_a_quarter_at_each_end():
    assert middle_half_mean([100.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, -50.0]) == pytest.approx(3.5)
    assert middle_half_mean([7.0]) == 7.0
    with pytest.raises(ValueError, match='no latency samples'):
        middle_half_mean([])


def test_summarize():
    result = summarize([4.0, 1.0, 3.0, 2.0])
    assert (result.mean_ms, result.median_ms, result.min_ms, result.runs) == (2.5, 3.0, 1.0, 4)


def test_summaries_keep_their_samples_in_order_but_do_not_write_them():
    result = summarize([4.0, 1.0, 3.0, 2.0])
    assert result.samples_ms == (4.0, 1.0, 3.0, 2.0)
    assert 'samples_ms' not in result.to_dict()


def test_ratio_drift_is_the_largest_change_against_the_reference_between_halves():
    steady = [10.0] * 4 + [12.0] * 4  # the whole machine slows by 20%: no drift
    results = {'dense': summarize([100.0] * 4 + [120.0] * 4), 'same': summarize(steady),
               'slower': summarize([10.0] * 4 + [13.2] * 4),  # 10% more than the machine
               'faster': summarize([10.0] * 4 + [11.4] * 4)}  # 5% less
    change, name, noise = ratio_drift(results, 'dense')
    assert (name, change, noise) == ('slower', pytest.approx(0.1), 0.0)
    assert ratio_drift({'dense': summarize([1.0] * 3), 'x': summarize([2.0] * 3)},
                       'dense') is None  # too few rounds to halve
    assert ratio_drift({'dense': summarize([1.0] * 4)}, 'dense') is None


def test_ratio_drift_of_stage_graphs_is_that_of_the_whole_configurations_they_stand_for():
    # the whole dense backbone takes 100 ms, its last stage's graph 10 ms; a pruned form of
    # that stage moves from 5 to 6 ms: the configuration moves from 95 to 96 ms (+1.05%)
    results = {'dense': summarize([100.0] * 8), 'stage3 dense': summarize([10.0] * 8),
               'stage3 0.5': summarize([5.0] * 4 + [6.0] * 4)}
    assert ratio_drift(results, 'dense')[0] == pytest.approx(0.2)  # the graph's own ratio
    change, name, _ = ratio_drift(results, 'dense', baseline='stage3 dense')
    assert (name, change) == ('stage3 0.5', pytest.approx(96 / 95 - 1))


def test_ratio_drift_reports_a_change_beyond_the_rounds_noise_before_a_larger_noisy_one():
    dense = [100.0, 104.0] * 6
    jitter = [0.9, 1.1, 1.0] * 4  # about 10% per round, in both halves
    results = {'dense': summarize(dense),
               'noisy': summarize([d * 0.3 * j for d, j in zip(dense, jitter)][:6]
                                  + [d * 0.3 * j * 1.06 for d, j in zip(dense, jitter)][6:]),
               'moved': summarize([d * 0.5 for d in dense[:6]] + [d * 0.52 for d in dense[6:]])}
    drift = ratio_drift(results, 'dense')
    assert (drift.name, drift.change) == ('moved', pytest.approx(0.04))
    assert drift.noise == pytest.approx(0.0)  # the same ratio in every round of a half
    del results['moved']
    drift = ratio_drift(results, 'dense')  # nothing beyond its noise: the largest change
    assert drift.name == 'noisy' and abs(drift.change) < drift.noise


def test_measure_interleaved_runs_every_call_each_round():
    calls = []
    timings = measure_interleaved(
        {'a': lambda: calls.append('a'), 'b': lambda: calls.append('b')},
        torch.device('cpu'), warmup=2, runs=5)
    assert calls == ['a', 'b'] * 7
    assert timings['a'].runs == timings['b'].runs == 5
    assert timings['a'].mean_ms >= 0


def test_inference_mode_is_on_while_timing():
    seen = []
    measure_interleaved({'x': lambda: seen.append(torch.is_inference_mode_enabled())},
                        torch.device('cpu'), warmup=0, runs=1)
    assert seen == [True]


def test_bad_run_counts():
    with pytest.raises(ValueError, match='runs >= 1'):
        measure_interleaved({}, torch.device('cpu'), warmup=0, runs=0)


def test_backbone_timer_times_configurations_on_a_copy(tiny_swin_kwargs):
    backbone = SparseSwinTransformer(**tiny_swin_kwargs, sparsity=[0.5, 0, 0, 0])
    protocol = LatencyProtocol('cpu', 2, 64, 64, 'fp32', 1, 3)
    timer = BackboneTimer(backbone, protocol)
    seen = []
    timer.backbone.register_forward_pre_hook(
        lambda module, args: seen.append((module.sparsity, tuple(args[0].shape))))
    results = timer.time({'dense': None, 'sparse': [0.8] * 4, 'small': None},
                         shapes={'small': (32, 48)}, runs=2)
    assert list(results) == ['dense', 'sparse', 'small'] and results['sparse'].runs == 2
    assert seen[:3] == [([0.0] * 4, (2, 3, 64, 64)), ([0.8] * 4, (2, 3, 64, 64)),
                        ([0.0] * 4, (2, 3, 32, 48))]
    assert len(seen) == 3 * (1 + 2)  # the protocol's warm-up, then the runs asked for
    assert timer.images() is timer.images((64, 64)) and timer.images().dtype == torch.float32
    assert timer.num_stages == 4
    assert timer.backbone is not backbone and not timer.backbone.training
    assert backbone.sparsity == [0.5, 0.0, 0.0, 0.0]  # the original is left as it was


def test_protocol_device_is_resolved_when_the_protocol_is_made(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    assert LatencyProtocol().device == LatencyProtocol(None).to_dict()['device'] == 'cuda'
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    assert LatencyProtocol().device == 'cpu' and LatencyProtocol('cuda:1').device == 'cuda:1'
