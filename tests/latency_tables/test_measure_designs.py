"""How a table is timed on runtimes that cannot time parts in place: stage graphs beside the
whole dense backbone (arithmetic with a stand-in clock), and the inputs those graphs run on."""
from contextlib import contextmanager

import pytest
import torch

from sparsevit.analysis.latency import LatencyResult
from sparsevit.latency_tables import measure
from sparsevit.latency_tables.runtimes import StageGraph, stage_inputs
from sparsevit.models.backbones import SparseSwinTransformer


class StageRuntime:
    """Stands in for a runtime that times stage graphs: each call returns its own cost."""
    times_parts, times_stages = False, True
    device = torch.device('cpu')

    def __init__(self, dense_ms, stage_ms):
        self.dense_ms, self.stage_ms = dense_ms, stage_ms

    @contextmanager
    def calls(self, configs, progress=None):
        yield {name: (lambda: self.dense_ms) for name in configs}

    @contextmanager
    def stage_calls(self, stage, configs, progress=None):
        yield {name: (lambda r=tuple(ratios): self.stage_ms(stage, r)) for name, ratios in
               configs.items()}


def test_stage_graphs_give_each_configuration_dense_plus_its_stage_difference(monkeypatch):
    drift = iter([1.0, 1.2])  # the machine is 20% slower while stage 1 is timed

    def interleaved(calls, device, warmup, runs, progress):
        factor = next(drift)
        return {name: LatencyResult(fn() * factor, 0.0, 0.0, runs) for name, fn in calls.items()}

    monkeypatch.setattr(measure, 'measure_interleaved', interleaved)
    depths, windows, choices = (2, 2), (16, 4), (0.0, 0.5)
    plan = measure.measurement_plan(depths, windows, choices)

    def stage_ms(stage, ratios):  # a block costs 10 dense, 4 at 0.5 and 0 skipped; scoring 1
        block = {0.0: 10.0, 0.5: 4.0}
        return (stage + 1) * (sum(block.get(r, 0.0) for r in ratios) + any(ratios))

    times = measure.time_stagewise(StageRuntime(100.0, stage_ms), plan, 2, 0, 1,
                                   lambda text: None)
    dense = (100.0 + 120.0) / 2  # the mean of the whole dense backbone over both stages' runs
    assert times['dense'] == pytest.approx(dense)
    for name, ratios in plan.items():
        if name != 'dense':
            s = int(name[5])
            # every run at the mean speed of all runs: the drift cancels
            difference = stage_ms(s, ratios[s]) - stage_ms(s, (0.0, 0.0))
            assert times[name] == pytest.approx(dense + dense / 100.0 * difference), name
    fixed, stages = measure.solve_table(times, depths, choices)
    assert stages[1]['block_ms'] == pytest.approx({0.0: 22.0, 0.5: 8.8})  # at speed 1.1
    assert stages[1]['scoring_ms'] == pytest.approx(2.2)


def test_stage_graphs_run_on_the_tokens_entering_their_stage():
    torch.manual_seed(0)
    backbone = SparseSwinTransformer(embed_dims=16, depths=(2, 2), num_heads=(1, 2),
                                     strides=(4, 2), out_indices=(0, 1), window_size=4).eval()
    images = torch.randn(2, 3, 64, 64)
    inputs = stage_inputs(backbone, images)
    assert [(tuple(x.shape), hw, scored) for x, hw, scored in inputs] == [
        ((2, 256, 16), (16, 16), None), ((2, 64, 32), (8, 8), None)]
    with torch.no_grad():
        out = StageGraph(backbone, 0, (0.0, 0.0), inputs[0][1])(inputs[0][0])
        merged, hw = backbone.stages[0].downsample(out, inputs[0][1])
        last = StageGraph(backbone, 1, (0.0, 0.0), hw)(merged)
        expected = backbone(images)[1]
    assert torch.allclose(merged, inputs[1][0], atol=1e-5)  # mmdet's merging, up to rounding
    assert torch.allclose(backbone.norm1(last).view(2, 8, 8, 32).permute(0, 3, 1, 2), expected,
                          atol=1e-6)


def test_stage_0_graphs_rank_on_the_tokens_the_backbone_ranks_on():
    """With ``score_before_patch_norm``, stage 0 ranks its windows on the pre-norm tokens."""
    torch.manual_seed(0)
    backbone = SparseSwinTransformer(embed_dims=16, depths=(2, 2), num_heads=(1, 2),
                                     strides=(4, 2), out_indices=(0, 1), window_size=4,
                                     patch_norm=True, score_before_patch_norm=True).eval()
    images = torch.randn(2, 3, 64, 64)
    inputs = stage_inputs(backbone, images)
    assert inputs[0].scored is not None and inputs[1].scored is None
    ratios = (0.5, 0.75)
    backbone.sparsity = [list(ratios), 0.0]
    with torch.no_grad():
        expected = backbone(images)[0]
        graph = StageGraph(backbone, 0, ratios, inputs[0].hw_shape)
        outs = [graph(inputs[0].tokens, inputs[0].scored), graph(inputs[0].tokens)]
    as_map = [backbone.norm0(out).view(2, 16, 16, 16).permute(0, 3, 1, 2) for out in outs]
    assert torch.allclose(as_map[0], expected, atol=1e-5)
    assert not torch.allclose(as_map[1], expected, atol=1e-5)  # ranked on the normed tokens


class WholeRuntime(StageRuntime):
    """Stands in for a runtime that runs only whole backbones, two configurations at once."""
    times_stages, group_size = False, 2

    @contextmanager
    def calls(self, configs, progress=None):
        yield {name: (lambda r=ratios: self.stage_ms(0, r[0]) + self.dense_ms)
               for name, ratios in configs.items()}


def test_a_runtime_of_whole_backbones_times_the_plan_in_groups_with_the_dense_one(monkeypatch):
    speeds = iter([1.0, 2.0, 3.0])  # three groups, each slower than the one before

    def interleaved(calls, device, warmup, runs, progress):
        speed = next(speeds)
        return {name: LatencyResult(fn() * speed, 0.0, 0.0, runs) for name, fn in calls.items()}

    monkeypatch.setattr(measure, 'measure_interleaved', interleaved)
    plan = measure.measurement_plan((2, ), (16, ), (0.0, 0.5))  # dense, skip, split, 0.5

    def stage_ms(stage, ratios):
        return sum({0.0: 10.0, 0.5: 4.0}.get(r, 0.0) for r in ratios) + any(ratios)

    times = measure.time_configurations(WholeRuntime(100.0, stage_ms), plan, 0, 1, 2,
                                        lambda text: None)
    assert times['dense'] == pytest.approx(120.0 * 2.0)  # the mean of the groups' dense
    for name, ratios in plan.items():  # every group scaled to that mean speed
        assert times[name] == pytest.approx(2.0 * (100.0 + stage_ms(0, ratios[0]))), name


def test_onnx_stage_graphs_take_stage_0s_scored_tokens():
    pytest.importorskip('onnxruntime')
    from sparsevit.analysis.latency import LatencyProtocol
    from sparsevit.latency_tables.runtimes import OnnxRuntime
    torch.manual_seed(0)
    backbone = SparseSwinTransformer(embed_dims=16, depths=(2, 2), num_heads=(1, 2),
                                     strides=(4, 2), out_indices=(0, 1), window_size=4,
                                     score_before_patch_norm=True).eval()
    runtime = OnnxRuntime(backbone, LatencyProtocol('cpu', 1, 64, 64, 'fp32', 0, 1), 1)
    tokens, hw_shape, scored = runtime.stage_input(0)
    with runtime.stage_calls(0, {'half': (0.5, 0.5)}) as calls:
        out, = calls['half']()
    with torch.no_grad():
        expected = StageGraph(backbone, 0, (0.5, 0.5), hw_shape)(tokens, scored)
    assert torch.allclose(torch.from_numpy(out), expected, atol=1e-4)


def test_a_check_times_the_dense_backbone_three_times_per_round_spread_through_it(
        monkeypatch):
    order = []

    def interleaved(calls, device, warmup, runs, progress):
        order.extend(calls)
        ms = {'dense': 100.0, 'dense 2': 103.0, 'dense 3': 106.0}  # the machine slows
        return {name: LatencyResult(ms.get(name, 50.0), 0.0, 0.0, runs) for name in calls}

    monkeypatch.setattr(measure, 'measure_interleaved', interleaved)
    configs = {'dense': ((0.0, 0.0), ), **{f'c{i}': ((0.5, 0.5), ) for i in range(6)}}
    times = measure.time_configurations(StageRuntime(0.0, None), configs, 0, 1, None,
                                        lambda text: None, dense_repeats=3)
    assert order == ['dense', 'c0', 'c1', 'dense 2', 'c2', 'c3', 'dense 3', 'c4', 'c5']
    assert times == {'dense': pytest.approx(103.0), **{f'c{i}': 50.0 for i in range(6)}}
