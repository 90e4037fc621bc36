"""Measuring a latency table on a runtime, and checking its predictions there.

Two designs. Where the runtime times the parts of a forward in place (PyTorch
eager: :meth:`SparseSwinTransformer.timing_parts`), it times, round-robin, the
dense backbone and the uniform configuration at every nonzero choice, and reads
each block's cost at each ratio, and each stage's scoring, off the forwards
themselves (``1 + choices`` configurations: 9 for the default choices);
``fixed_ms``, what a forward costs beyond its blocks and its scoring, is the mean
over all of them. A part costs the mean of the middle half of its rounds, so
each entry carries its own noise, not that of a whole forward.

Elsewhere (compiled or exported graphs), the parts follow by
differences of the timings of configurations that change one stage at a time,
all others dense. Per stage ``s`` of depth ``d`` with ``W``
windows it times

- ``skip``: every block of ``s`` keeping no window (ratio ``1 - 0.5 / W``), so the
  blocks are skipped but the stage still scores its windows;
- ``split``: the first ``h`` blocks dense, the rest skipped (``h`` = the largest
  even number <= d / 2, at least 1, so the dense part has as many shifted as
  regular blocks where it can);
- one configuration per nonzero choice ``c``: every block of ``s`` at ``c``;

plus the dense backbone: ``1 + stages x (choices + 1)`` configurations (41 for
Swin-T and the nine default choices). Where the runtime runs one stage on its own
(ONNX Runtime, torch.compile), each stage's configurations and the dense stage are timed as
graphs of that stage alone, round-robin beside the whole dense backbone, and a
configuration's time is the dense backbone's plus its stage's difference from
the dense stage: the differences then carry the noise of a stage, not of the
whole backbone. The table's entries follow by differences:
``block_ms[s][c] = (T(c) - T(skip)) / d``, ``block_ms[s][0] = (T(split) - T(skip)) / h``,
``scoring_ms[s] = T(skip) - T(dense) + d * block_ms[s][0]`` and ``fixed_ms = T(dense) -
sum of the dense blocks``, so the table reproduces every configuration it timed.

A runtime that runs only whole backbones (a further runtime, a remote device)
times these configurations whole, in groups of as many as it prepares at once;
every group times the dense backbone too and is scaled to the mean dense latency
of all groups, so drift between groups cancels.
"""
import datetime
import json
import random
import statistics
import time
from typing import Callable, Mapping, Optional, Sequence, Union

import torch
from mmengine.config import Config

from ..analysis.allocator import allocator_settings, keep_freed_memory
from ..analysis.latency import (LatencyProtocol, LatencyResult, RatioDrift, largest_drift,
                                measure_interleaved, ratio_drift)
from ..analysis.part_costs import mean_parts, part_kind
from ..models.backbones import SparseSwinTransformer
from ..presets import REFERENCE_CONFIGS, SWIN_ARCHS, uniform
from ..search_space import SearchSpace
from ..sparsity import BlockRatios, SparsityError, kept_windows, normalize_sparsity
from .runtimes import Calls, LatencyRuntime, build_runtime, device_name
from .table import (FORMAT, FORMAT_VERSION, LatencyTable, LatencyTableError, architecture_of,
                    geometry_fingerprint, ratio_key, relative_error, stage_geometry)

Report = Callable[[str], None]
CHECK_UNIFORM = (0.3, 0.5, 0.6, 0.8)
# the dense backbone's timings per round of a check: their mean scales every error
CHECK_DENSE_REPEATS = 3
# backbone arguments that change weights or training, not the computation at inference
NOT_ARCHITECTURE = ('type', 'sparsity', 'init_cfg', 'pretrained', 'with_cp', 'convert_weights',
                    'frozen_stages')


def backbone_kwargs(config: Union[str, Config]) -> dict:
    """Constructor arguments of the Swin backbone of a task config (a path or a Config), or of
    a named architecture (``swin-t``, ``swin-s``, ``swin-b``), as plain JSON data."""
    if isinstance(config, str) and config in SWIN_ARCHS:
        return json.loads(json.dumps(SWIN_ARCHS[config]))
    model = (Config.fromfile(config) if isinstance(config, str) else config).model
    backbone = model.get('img_backbone', model.get('backbone'))
    if backbone is None or 'Swin' not in str(backbone.get('type')):
        name = config if isinstance(config, str) else 'the config'
        raise LatencyTableError(f'{name}: the model has no Swin backbone (found {backbone})')
    kwargs = {k: v for k, v in backbone.to_dict().items() if k not in NOT_ARCHITECTURE}
    return json.loads(json.dumps(kwargs))  # tuples as lists: what the table file holds


def build_backbone(kwargs: dict, seed: int = 0) -> SparseSwinTransformer:
    """A randomly initialized backbone of the architecture ``kwargs`` (weights do not
    change latency)."""
    torch.manual_seed(seed)
    return SparseSwinTransformer(**kwargs).eval()


def _split_blocks(depth: int) -> int:
    return max(1, 2 * (depth // 4))


def measurement_plan(depths: Sequence[int], windows: Sequence[int],
                     choices: Sequence[float]) -> dict[str, BlockRatios]:
    """The configurations a table times (see the module docstring), by name."""
    dense = tuple((0.0, ) * d for d in depths)
    plan = {'dense': dense}
    for s, (depth, count) in enumerate(zip(depths, windows)):
        def at(ratios: tuple) -> BlockRatios:
            return tuple(ratios if t == s else dense[t] for t in range(len(depths)))
        skip = 1.0 - 0.5 / count
        plan[f'stage{s} skip'] = at((skip, ) * depth)
        if depth > 1:
            h = _split_blocks(depth)
            plan[f'stage{s} split'] = at((0.0, ) * h + (skip, ) * (depth - h))
        for c in choices:
            if c > 0:
                plan[f'stage{s} {ratio_key(c)}'] = at((float(c), ) * depth)
    return plan


def solve_table(times: Mapping[str, float], depths: Sequence[int],
                choices: Sequence[float]) -> tuple[float, list[dict]]:
    """``fixed_ms`` and, per stage, ``scoring_ms`` and ``block_ms`` from the plan's times.

    A stage of one block cannot tell its scoring from its dense block; its
    scoring is folded into its pruned blocks (``scoring_ms`` 0), which predicts
    the same.
    """
    dense = times['dense']
    stages, dense_blocks = [], 0.0
    for s, depth in enumerate(depths):
        skipped = times[f'stage{s} skip']
        if depth > 1:
            block0 = (times[f'stage{s} split'] - skipped) / _split_blocks(depth)
            scoring = skipped - dense + depth * block0
        else:
            block0, scoring = dense - skipped, 0.0
        blocks = {0.0: block0}
        blocks.update({float(c): (times[f'stage{s} {ratio_key(c)}'] - skipped) / depth
                       for c in choices if c > 0})
        stages.append(dict(scoring_ms=scoring, block_ms=blocks))
        dense_blocks += depth * block0
    return dense - dense_blocks, stages


def in_place_plan(depths: Sequence[int], choices: Sequence[float]) -> dict[str, BlockRatios]:
    """The configurations an in-place table times: dense, and uniform at each nonzero choice."""
    plan = {'dense': tuple((0.0, ) * d for d in depths)}
    plan.update({f'uniform {ratio_key(c)}': tuple((float(c), ) * d for d in depths)
                 for c in choices if c > 0})
    return plan


def solve_in_place(parts: Mapping[str, Mapping[str, float]], times: Mapping[str, float],
                   depths: Sequence[int], choices: Sequence[float]) -> tuple[float, list[dict]]:
    """``fixed_ms`` and, per stage, ``scoring_ms`` and ``block_ms`` from the part costs (ms)
    of the in-place plan's configurations and their whole latencies ``times``.

    A block costs the mean of its stage's blocks; a stage's scoring is what its ranking
    costs when it prunes beyond what it costs dense (a few checks), averaged over the
    choices. ``fixed_ms`` is what a whole forward costs beyond its blocks and that extra
    scoring: the same work in every configuration, so it is their mean, and the noise of one
    whole timing does not shift every prediction.
    """
    dense = parts['dense']
    pruned = [c for c in choices if c > 0]
    stages = []
    for s, depth in enumerate(depths):
        def blocks_at(name: str) -> float:
            return statistics.fmean(parts[name].get(f'stage{s} block{i}', 0.0)
                                    for i in range(depth))
        scoring = 0.0
        if pruned:
            scoring = statistics.fmean(parts[f'uniform {ratio_key(c)}'][f'stage{s} scoring']
                                       for c in pruned) - dense[f'stage{s} scoring']
        blocks = {0.0: blocks_at('dense')}
        blocks.update({float(c): blocks_at(f'uniform {ratio_key(c)}') for c in pruned})
        stages.append(dict(scoring_ms=scoring, block_ms=blocks))

    def beyond_blocks(name: str) -> float:
        own = parts[name]
        blocks = sum(ms for part, ms in own.items() if part_kind(part) == 'blocks')
        scoring = sum(own[f'stage{s} scoring'] - dense[f'stage{s} scoring']
                      for s in range(len(depths)))
        return times[name] - blocks - scoring

    return statistics.fmean(beyond_blocks(name) for name in parts), stages


def _note_drift(results: Mapping[str, LatencyResult], drifts: Optional[list],
                baseline: Optional[str] = None) -> None:
    """Append to ``drifts`` how far a round-robin run moved against its dense backbone (with
    ``baseline``, the other calls are stage graphs standing in for it: :func:`ratio_drift`)."""
    drift = ratio_drift(results, 'dense', baseline)
    if drifts is not None and drift is not None:
        drifts.append(drift)


def worst_drift(drifts: Sequence[RatioDrift]) -> Optional[dict]:
    """The largest of the runs' drifts (:func:`ratio_drift`, one beyond its noise if any) as
    JSON data, or None."""
    drift = largest_drift(list(drifts))
    if drift is None:
        return None
    return dict(change=drift.change, configuration=drift.name, noise=drift.noise)


def time_parts(runtime: LatencyRuntime, configs: Mapping[str, BlockRatios], warmup: int,
               runs: int, report: Report, drifts: Optional[list] = None
               ) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """Whole latency (ms) of every configuration, round-robin, and the cost (ms, mean of the
    middle half of the timed rounds) of each part of its forwards. ``drifts`` receives the
    run's :func:`ratio_drift` against the dense backbone."""
    samples: dict[str, list[dict[str, float]]] = {}
    results = measure_interleaved(
        runtime.part_calls(configs, samples), runtime.device, warmup, runs,
        lambda done, total: report(f'round {done}/{total} of {len(configs)} configurations'))
    _note_drift(results, drifts)
    parts = {name: mean_parts(forwards[warmup:]) for name, forwards in samples.items()}
    return {name: r.mean_ms for name, r in results.items()}, parts


def _groups(names: list[str], size: Optional[int]) -> list[list[str]]:
    """The plan in groups of at most ``size`` configurations, each with the dense one."""
    others = [n for n in names if n != 'dense']
    if size is None or size >= len(names):
        return [['dense', *others]]
    step = max(1, size - 1)
    return [['dense', *others[i:i + step]] for i in range(0, len(others), step)]


def time_stagewise(runtime: LatencyRuntime, plan: Mapping[str, BlockRatios], stages: int,
                   warmup: int, runs: int, report: Report,
                   drifts: Optional[list] = None) -> dict[str, float]:
    """Latency (ms) of every configuration of ``plan`` (each changes one stage), from graphs of
    one stage: per stage, its configurations and its dense form round-robin beside the whole
    dense backbone, scaled to the mean dense latency of all stages' runs. ``drifts``
    receives each run's :func:`ratio_drift` against the dense backbone."""
    dense_ratios = plan['dense']
    raw = []
    with runtime.calls({'dense': dense_ratios}, report) as whole:
        for s in range(stages):
            prefix = f'stage {s + 1}/{stages}: '
            names = [n for n in plan if n.startswith(f'stage{s} ')]
            configs = {f'stage{s} dense': dense_ratios[s], **{n: plan[n][s] for n in names}}
            with runtime.stage_calls(s, configs, lambda t: report(prefix + t)) as calls:
                results = measure_interleaved(
                    {**whole, **calls}, runtime.device, warmup, runs,
                    lambda done, total: report(f'{prefix}round {done}/{total} of '
                                               f'{len(calls) + 1} graphs'))
            _note_drift(results, drifts, baseline=f'stage{s} dense')
            raw.append((s, {name: r.mean_ms for name, r in results.items()}))
    dense = statistics.fmean(group['dense'] for _, group in raw)
    times = {'dense': dense}
    for s, group in raw:
        scale = dense / group['dense']
        times.update({n: dense + scale * (ms - group[f'stage{s} dense'])
                      for n, ms in group.items() if n.startswith(f'stage{s} ')
                      and n != f'stage{s} dense'})
    return times


def _dense_names(repeats: int) -> list[str]:
    return ['dense', *(f'dense {i + 1}' for i in range(1, repeats))]


def _dense_spread(calls: Calls, repeats: int) -> Calls:
    """``calls`` in an order that runs the dense one ``repeats`` times per round, spread
    evenly through the round (under :func:`_dense_names`)."""
    others = [name for name in calls if name != 'dense']
    spread: Calls = {}
    for i, dense in enumerate(_dense_names(repeats)):
        spread[dense] = calls['dense']
        spread.update({name: calls[name] for name in
                       others[len(others) * i // repeats:len(others) * (i + 1) // repeats]})
    return spread


def time_configurations(runtime: LatencyRuntime, configs: Mapping[str, BlockRatios],
                        warmup: int, runs: int, group_size: Optional[int],
                        report: Report, dense_repeats: int = 1,
                        drifts: Optional[list] = None) -> dict[str, float]:
    """Latency (ms, mean of the middle half) of every configuration, round-robin per group,
    each group scaled to the mean dense latency of all groups. The dense backbone runs
    ``dense_repeats`` times per round, and its latency is their mean. ``drifts`` receives
    each group's :func:`ratio_drift` against the dense backbone."""
    groups = _groups(list(configs), group_size)
    raw = []
    for g, names in enumerate(groups):
        prefix = f'group {g + 1}/{len(groups)}: ' if len(groups) > 1 else ''
        with runtime.calls({n: configs[n] for n in names}, lambda t: report(prefix + t)) as calls:
            calls = _dense_spread(calls, dense_repeats)
            results = measure_interleaved(
                calls, runtime.device, warmup, runs,
                lambda done, total: report(f'{prefix}round {done}/{total} of '
                                           f'{len(calls)} configurations'))
        _note_drift(results, drifts)
        dense_names = _dense_names(dense_repeats)
        group = {name: r.mean_ms for name, r in results.items() if name not in dense_names}
        group['dense'] = statistics.fmean(results[name].mean_ms for name in dense_names)
        raw.append(group)
    dense = statistics.fmean(group['dense'] for group in raw)
    times = {'dense': dense}
    for group in raw:
        times.update({n: ms * dense / group['dense'] for n, ms in group.items() if n != 'dense'})
    return times


def _time_and_solve(runtime: LatencyRuntime, depths: Sequence[int], windows: Sequence[int],
                    choices: Sequence[float], protocol: LatencyProtocol,
                    announce: Callable[[int], None], report: Report, drifts: list
                    ) -> tuple[str, dict[str, float], float, list[dict]]:
    """Time the plan of the runtime's design (see the module docstring) and solve it: the
    design in words, the times (ms) of its configurations, ``fixed_ms`` and the stages'
    entries; ``drifts`` receives the runs' drifts."""
    warmup, runs = protocol.warmup, protocol.runs
    if runtime.times_parts:
        plan = in_place_plan(depths, choices)
        announce(len(plan))
        times, parts = time_parts(runtime, plan, warmup, runs, report, drifts)
        design = (f'{len(plan)} configurations (dense, uniform at each choice) timed '
                  'round-robin; blocks, scoring and the dense forward timed in place')
        return design, times, *solve_in_place(parts, times, depths, choices)
    plan = measurement_plan(depths, windows, choices)
    announce(len(plan))
    if runtime.times_stages:
        times = time_stagewise(runtime, plan, len(depths), warmup, runs, report, drifts)
        design = (f'{len(plan)} configurations, each stage\'s as graphs of that stage alone '
                  'timed round-robin beside the whole dense backbone; parts by differences')
    else:
        times = time_configurations(runtime, plan, warmup, runs, runtime.group_size, report,
                                    drifts=drifts)
        groups = len(_groups(list(plan), runtime.group_size))
        design = (f'{len(plan)} whole-backbone configurations timed round-robin in {groups} '
                  'group(s), each with the dense backbone; parts by differences')
    return design, times, *solve_table(times, depths, choices)


def measure_table(backbone_kwargs: dict, runtime_name: str, protocol: LatencyProtocol,
                  threads: int, choices: Sequence[float], source: str,
                  report: Report = print) -> LatencyTable:
    """Measure the latency table of the architecture ``backbone_kwargs`` on a runtime.

    Args:
        protocol: device, batch, input size, dtype, warm-up and timed rounds.
        threads: the CPU threads of the runtime (recorded).
        choices: the ratios the table serves (0 is always measured).
        source: the config (or architecture name) the backbone came from (recorded).
        report: receives progress lines.
    """
    start = time.monotonic()
    choices = sorted({0.0, *(float(c) for c in choices)})
    backbone = build_backbone(backbone_kwargs)
    architecture = architecture_of(backbone)
    geometry = stage_geometry(architecture, protocol.height, protocol.width)
    runtime = build_runtime(runtime_name, backbone, protocol, threads)
    drifts: list = []
    design, times, fixed, solved = _time_and_solve(
        runtime, backbone.depths, [g['windows'] for g in geometry], choices, protocol,
        lambda count: report(f'measuring {count} configurations on {runtime.version()}, '
                             f'{device_name(runtime.device)}, {threads} threads, '
                             f'{protocol.describe()}'), report, drifts)
    # the table's dense backbone: the timed one where the parts are differences, the dense
    # blocks plus the mean fixed part where they are timed in place
    dense_ms = fixed + sum(geo['depth'] * entry['block_ms'][0.0]
                           for geo, entry in zip(geometry, solved))
    stages = []
    for geo, entry in zip(geometry, solved):
        stages.append(dict(
            depth=geo['depth'], tokens=geo['tokens'], windows=geo['windows'],
            scoring_ms=entry['scoring_ms'],
            block_ms={ratio_key(c): ms for c, ms in entry['block_ms'].items()},
            kept_windows={ratio_key(c): kept_windows(geo['windows'], c) for c in choices}))
    data = dict(
        format=FORMAT, format_version=FORMAT_VERSION,
        protocol=dict(
            runtime=runtime_name, runtime_version=runtime.version(), device=protocol.device,
            device_name=device_name(runtime.device), threads=threads, dtype=protocol.dtype,
            batch=protocol.batch, shape=[protocol.height, protocol.width],
            warmup=protocol.warmup, runs=protocol.runs,
            statistic='mean of the middle half (ms)', configurations=len(times), design=design,
            allocator=allocator_settings(), drift=worst_drift(drifts),
            date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
            measure_seconds=round(time.monotonic() - start, 1)),
        backbone=dict(source=source, kwargs=backbone_kwargs, architecture=architecture,
                      fingerprint=geometry_fingerprint(architecture, protocol.height,
                                                       protocol.width, protocol.batch)),
        choices=choices, dense_ms=dense_ms, fixed_ms=fixed, stages=stages,
        measured_ms=times)
    return LatencyTable(data, 'the measured table')


def check_configurations(table: LatencyTable, count: int,
                         seed: int = 0) -> dict[str, BlockRatios]:
    """Dense, ``count`` random points of the pair space, the authors' three and uniform
    0.3/0.5/0.6/0.8; those the table's architecture or choices cannot take are left out."""
    depths = table.depths
    space = SearchSpace(depths, table.choices, 'pair')
    rng = random.Random(seed)
    specs = {'dense': uniform(0.0, len(depths))}
    specs.update({f'random-{i}': space.to_sparsity(space.sample(rng)) for i in range(count)})
    specs.update(REFERENCE_CONFIGS)
    specs.update({f'uniform-{r:g}': uniform(r, len(depths)) for r in CHECK_UNIFORM})
    configs = {}
    for name, spec in specs.items():
        try:
            ratios = normalize_sparsity(spec, depths)
            table.check_compatible(choices=sorted({r for stage in ratios for r in stage}))
        except (SparsityError, ValueError):
            continue  # the authors' configurations need Swin-T's depths; ratios not measured
        configs[name] = ratios
    return configs


def check_table(table: LatencyTable, count: int, seed: int, warmup: int, runs: int,
                threads: Optional[int] = None, report: Report = print) -> dict:
    """Time the check configurations on the table's runtime in one round-robin run and
    compare with the predictions, raw and scaled by the dense ratio. Reuses freed memory
    where the table was measured doing so."""
    p = table.protocol
    if 'mallopt' in p.get('allocator', {}):
        keep_freed_memory()
    protocol = LatencyProtocol(p['device'], p['batch'], *p['shape'], p['dtype'], warmup, runs)
    threads = threads or p['threads']
    torch.set_num_threads(threads)
    runtime = build_runtime(p['runtime'], build_backbone(table.data['backbone']['kwargs']),
                            protocol, threads)
    configs = check_configurations(table, count, seed)
    allocator = allocator_settings()
    if allocator != p.get('allocator', {}):
        report(f'WARNING: the table was measured with the allocator settings '
               f'{p.get("allocator", {})}, this check runs with {allocator}: on a CPU they '
               'change every latency')
    report(f'checking {table.source} on {len(configs)} configurations, one round-robin run on '
           f'{runtime.version()}, {device_name(runtime.device)}, {threads} threads')
    drifts: list = []
    times = time_configurations(runtime, configs, warmup, runs, None, report, CHECK_DENSE_REPEATS,
                                drifts)
    scale = table.dense_ms / times['dense']
    rows = []
    for name, ratios in configs.items():
        predicted = table.predict(ratios)
        rows.append(dict(name=name, sparsity=[list(stage) for stage in ratios],
                         predicted_ms=predicted, measured_ms=times[name],
                         error=relative_error(predicted, times[name]),
                         scaled_error=relative_error(predicted, times[name] * scale)))
    checked = [row for row in rows if row['name'] != 'dense']

    def stats(key: str) -> dict:
        errors = [abs(row[key]) for row in checked]
        return dict(median_abs=statistics.median(errors), max_abs=max(errors),
                    mean=statistics.fmean(row[key] for row in checked))

    return dict(table=table.source, table_protocol=p, runtime_version=runtime.version(),
                device_name=device_name(runtime.device), threads=threads, warmup=warmup,
                runs=runs, seed=seed, allocator=allocator, drift=worst_drift(drifts),
                dense_ratio=times['dense'] / table.dense_ms,
                date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
                rows=rows, raw=stats('error'), scaled=stats('scaled_error'))
