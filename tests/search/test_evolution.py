"""The evolutionary search alone, with deterministic stand-ins for latency and metric."""
import random

import pytest

from sparsevit.search import (Candidate, EvolutionarySearch, EvolutionSettings, RandomSearch,
                              best_so_far, crossover, mutate, pareto_front)
from sparsevit.search_space import SearchSpace

SPACE = SearchSpace((2, 2, 6, 2))


def latency(point):
    """Deterministic stand-in: 100 ms dense, each gene's ratio saves time by weight (>= 45 ms)."""
    weights = (8, 6, 9, 9, 9, 5)
    return round(100.0 - 1.5 * sum(w * v for w, v in zip(weights, point)), 6)


def metric(point):
    """Accuracy falls with sparsity, faster in later genes: a clear optimum under a budget."""
    return 50.0 - sum((i + 1) * v**2 for i, v in enumerate(point))


class Recorder:

    def __init__(self):
        self.measured, self.evaluated = [], []

    def measure(self, point):
        self.measured.append(point)
        return latency(point)

    def evaluate(self, point):
        self.evaluated.append(point)
        return metric(point)


def search(settings, band=(60.0, 75.0), recorder=None, **kwargs):
    recorder = recorder or Recorder()
    return EvolutionarySearch(SPACE, settings, band, recorder.measure, recorder.evaluate,
                              **kwargs), recorder


SMALL = EvolutionSettings(population=16, parents=4, mutation_prob=0.2, budget=400, seed=1)


def test_band_is_honoured_and_only_feasible_points_are_evaluated():
    engine, rec = search(SMALL)
    result = engine.run()
    assert result.proposals == 400
    assert all(60.0 <= latency(p) <= 75.0 for p in rec.evaluated)
    assert len(rec.measured) == len(set(rec.measured))  # cached by content
    assert len(rec.evaluated) == len(set(rec.evaluated))
    infeasible = [c for c in result.candidates if not c.feasible]
    assert infeasible and all(not 60.0 <= c.latency_ms <= 75.0 for c in infeasible)
    assert 60.0 <= result.best.latency_ms <= 75.0


def test_finds_one_of_the_best_configurations_of_the_band():
    settings = EvolutionSettings(population=32, parents=8, mutation_prob=0.3, budget=600, seed=1)
    engine, rec = search(settings)
    best = engine.run().best
    feasible = [metric(p) for p in _all_points() if 60.0 <= latency(p) <= 75.0]  # 68k points
    better = sum(m > best.metric for m in feasible)
    assert better <= 0.001 * len(feasible)  # top 0.1 % after evaluating a few hundred
    assert len(rec.evaluated) < 0.01 * len(feasible)


def _all_points():
    from itertools import combinations_with_replacement, product
    c = SPACE.choices
    for s0, s1, s3 in product(c, c, c):
        for s2 in combinations_with_replacement(c, 3):
            yield (s0, s1, *s2, s3)


def test_same_seed_same_run_other_seed_other_run():
    a = search(SMALL)[0].run()
    b = search(SMALL)[0].run()
    c = search(EvolutionSettings(16, 4, 0.2, 400, seed=2))[0].run()
    assert [x.point for x in a.candidates] == [x.point for x in b.candidates]
    assert [x.point for x in a.candidates] != [x.point for x in c.candidates]


def test_resumed_from_cached_values_retraces_the_uninterrupted_run():
    full = search(SMALL)[0].run()
    log = {}

    class Killed(Exception):
        pass

    def killing_measure(point):  # the first process dies after 30 measurements
        if len(log) == 30:
            raise Killed
        log[point] = latency(point)
        return log[point]

    with pytest.raises(Killed):
        EvolutionarySearch(SPACE, SMALL, (60.0, 75.0), killing_measure, metric).run()
    fresh = []

    def cached_measure(point):
        if point not in log:
            fresh.append(point)
            log[point] = latency(point)
        return log[point]

    resumed = EvolutionarySearch(SPACE, SMALL, (60.0, 75.0), cached_measure, metric).run()
    assert resumed.candidates == full.candidates and resumed.best == full.best
    assert len(fresh) == len(full.candidates) - 30  # nothing measured twice


def test_mutation_crossover_and_repair_keep_points_valid():
    rng = random.Random(0)
    for _ in range(200):
        a, b = SPACE.sample(rng), SPACE.sample(rng)
        for child in (mutate(SPACE, a, 0.5, rng), crossover(SPACE, a, b, rng)):
            assert SPACE.repair(child) == child and set(child) <= set(SPACE.choices)
    assert mutate(SPACE, a, 0.0, rng) == a
    assert all(c in (x, y) for c, x, y in zip(crossover(SPACE, a, a, rng), a, a))


def test_population_never_holds_infeasible_or_duplicate_points():
    seen_populations = []

    class Spy(EvolutionarySearch):
        def _fill(self, members, size, propose):
            super()._fill(members, size, propose)
            seen_populations.append(list(members))

    Spy(SPACE, SMALL, (60.0, 75.0), latency, metric).run()
    for members in seen_populations:
        assert all(m.feasible for m in members)
        assert len({m.point for m in members}) == len(members) <= SMALL.population


def test_no_feasible_point_gives_no_best_and_respects_the_budget():
    engine, rec = search(EvolutionSettings(8, 2, 0.1, 50, 0), band=(0.0, 1.0))
    result = engine.run()
    assert result.best is None and result.proposals == 50 and rec.evaluated == []


def test_progress_reports_every_proposal_with_the_best_so_far():
    reports = []
    engine, _ = search(EvolutionSettings(8, 2, 0.1, 40, 0),
                       progress=lambda done, total, best: reports.append((done, total, best)))
    engine.run()
    assert [r[0] for r in reports] == list(range(1, 41)) and reports[-1][1] == 40
    metrics = [r[2].metric for r in reports if r[2] is not None]
    assert metrics == sorted(metrics)


@pytest.mark.parametrize('kwargs, message', [
    (dict(parents=0), 'parents'), (dict(parents=5, population=4), 'parents'),
    (dict(mutation_prob=1.5), 'mutation_prob'), (dict(budget=0), 'budget')])
def test_settings_are_validated(kwargs, message):
    with pytest.raises(ValueError, match=message):
        EvolutionSettings(**kwargs)


def test_empty_band_is_refused():
    with pytest.raises(ValueError, match='min 80.0 ms > max 70.0 ms'):
        EvolutionarySearch(SPACE, SMALL, (80.0, 70.0), latency, metric)


def test_pareto_front():
    cands = [Candidate((0.1,), 10.0, 0.5), Candidate((0.2,), 12.0, 0.4),
             Candidate((0.3,), 15.0, 0.7), Candidate((0.4,), 9.0, None),
             Candidate((0.5,), 20.0, 0.7), Candidate((0.6,), 8.0, 0.2)]
    assert [c.point for c in pareto_front(cands)] == [(0.6,), (0.1,), (0.3,)]


def test_random_search_keeps_band_budget_and_cache():
    rec = Recorder()
    result = RandomSearch(SPACE, SMALL, (60.0, 75.0), rec.measure, rec.evaluate).run()
    assert result.proposals == 400
    assert len(rec.measured) == len(set(rec.measured))
    assert rec.evaluated and all(60.0 <= latency(p) <= 75.0 for p in rec.evaluated)
    assert result.best.metric == max(metric(p) for p in rec.evaluated)
    again = RandomSearch(SPACE, SMALL, (60.0, 75.0), latency, metric).run()
    assert [c.point for c in again.candidates] == [c.point for c in result.candidates]


def test_evolution_finds_more_than_random_search_with_the_same_budget():
    settings = EvolutionSettings(population=32, parents=8, mutation_prob=0.3, budget=600, seed=1)
    evolved = EvolutionarySearch(SPACE, settings, (60.0, 75.0), latency, metric).run()
    drawn = RandomSearch(SPACE, settings, (60.0, 75.0), latency, metric).run()
    assert evolved.best.metric > drawn.best.metric


def test_best_so_far_counts_evaluations_only():
    candidates = [Candidate((0.1,), 50.0, 0.3), Candidate((0.2,), 90.0),
                  Candidate((0.3,), 55.0, 0.2), Candidate((0.4,), 52.0, 0.5)]
    assert best_so_far(candidates) == [0.3, 0.3, 0.5]
    assert best_so_far([Candidate((0.2,), 90.0)]) == []
