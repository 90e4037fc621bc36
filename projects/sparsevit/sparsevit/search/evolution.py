"""Evolutionary search of layerwise sparsity under a latency band (docs/method.md, section 5).

Independent of OpenMMLab: the caller supplies ``measure`` (latency of a
point, ms) and ``evaluate`` (task metric of a point, higher is better). The
sequence of random draws depends only on the seed and on the values those two
return, so a run that gets its values from a cache (a resumed search)
retraces an uninterrupted one exactly.
"""
import random
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Callable, Optional, Sequence

from ..search_space import SearchSpace

Point = tuple[float, ...]


@dataclass(frozen=True)
class EvolutionSettings:
    """Population, parents, mutation probability, budget (proposed candidates), seed."""
    population: int = 100
    parents: int = 25
    mutation_prob: float = 0.1
    budget: int = 10000
    seed: int = 0

    def __post_init__(self):
        if not 1 <= self.parents <= self.population:
            raise ValueError(f'need 1 <= parents <= population, got parents={self.parents}, '
                             f'population={self.population}')
        if not 0.0 <= self.mutation_prob <= 1.0:
            raise ValueError(f'mutation_prob must be in [0, 1], got {self.mutation_prob}')
        if self.budget < 1:
            raise ValueError(f'budget must be >= 1, got {self.budget}')


@dataclass(frozen=True)
class Candidate:
    """A point with its measured latency and, when it was in the band, its metric."""
    point: Point
    latency_ms: float
    metric: Optional[float] = None

    @property
    def feasible(self) -> bool:
        return self.metric is not None


def ranking_key(candidate: Candidate):
    """Best first: higher metric, then the sparser point, then the point itself.

    Ties are not broken by the measured latency: it is noisy, and a search
    must take the same decisions when it re-measures (another process count).
    """
    return (-candidate.metric, -sum(candidate.point), candidate.point)


def mutate(space: SearchSpace, point: Point, prob: float, rng: random.Random) -> Point:
    """Redraw each gene with probability ``prob``, then repair."""
    return space.repair([rng.choice(space.choices) if rng.random() < prob else v for v in point])


def crossover(space: SearchSpace, a: Point, b: Point, rng: random.Random) -> Point:
    """Each gene from ``a`` or ``b`` with equal probability, then repair."""
    return space.repair([x if rng.random() < 0.5 else y for x, y in zip(a, b)])


@dataclass
class SearchResult:
    best: Optional[Candidate]
    candidates: list[Candidate] = field(default_factory=list)  # every measured point, in order
    proposals: int = 0


class Assessor:
    """Assesses proposed points under a latency band: measures each point once (cached by
    content), evaluates it only when its latency lies inside ``[low, high]``, counts the
    proposals against ``budget`` and reports each to ``on_candidate`` (new points) and
    ``progress``."""

    def __init__(self, budget: int, latency_band: tuple[float, float],
                 measure: Callable[[Point], float], evaluate: Callable[[Point], float],
                 on_candidate: Callable[[Candidate], None] = lambda c: None,
                 progress: Callable[[int, int, Optional[Candidate]], None] = lambda *a: None):
        low, high = latency_band
        if low > high:
            raise ValueError(f'latency band is empty: min {low} ms > max {high} ms')
        self.budget, self.band = budget, (low, high)
        self.measure, self.evaluate = measure, evaluate
        self.on_candidate, self.progress = on_candidate, progress
        self.cache: dict[Point, Candidate] = {}
        self.proposals = 0

    @property
    def exhausted(self) -> bool:
        return self.proposals >= self.budget

    def __call__(self, point: Point) -> Candidate:
        self.proposals += 1
        if point not in self.cache:
            latency = float(self.measure(point))
            low, high = self.band
            metric = float(self.evaluate(point)) if low <= latency <= high else None
            self.cache[point] = Candidate(point, latency, metric)
            self.on_candidate(self.cache[point])
        self.progress(self.proposals, self.budget, self.best())
        return self.cache[point]

    def best(self) -> Optional[Candidate]:
        feasible = [c for c in self.cache.values() if c.feasible]
        return min(feasible, key=ranking_key) if feasible else None

    def result(self) -> SearchResult:
        return SearchResult(self.best(), list(self.cache.values()), self.proposals)


class BandSearch(ABC):
    """A search of ``space`` for the best metric under a latency band, with the budget of
    proposals and the seed of ``settings``; :meth:`run` proposes the points."""

    def __init__(self, space: SearchSpace, settings: EvolutionSettings,
                 latency_band: tuple[float, float], measure: Callable[[Point], float],
                 evaluate: Callable[[Point], float],
                 on_candidate: Callable[[Candidate], None] = lambda c: None,
                 progress: Callable[[int, int, Optional[Candidate]], None] = lambda *a: None):
        self.space, self.settings = space, settings
        self.assess = Assessor(settings.budget, latency_band, measure, evaluate, on_candidate,
                               progress)

    @abstractmethod
    def run(self) -> SearchResult:
        """Propose points until the budget ends; the result of every point measured."""


class EvolutionarySearch(BandSearch):
    """Latency-constrained evolution over a :class:`SearchSpace`.

    Starts from random valid points; each generation keeps the ``parents``
    best, and fills the population with mutations of random parents and
    uniform crossovers of two random parents. A proposal whose measured
    latency lies outside ``[latency_min, latency_max]`` is never evaluated
    and never enters the population. Points are measured and evaluated once
    (cached by content). The search stops after ``budget`` proposals.
    """

    def _fill(self, members: list[Candidate], size: int,
              propose: Callable[[], Point]) -> None:
        """Append feasible, new proposals to ``members`` until it has ``size`` or budget ends."""
        while len(members) < size and not self.assess.exhausted:
            candidate = self.assess(propose())
            if candidate.feasible and all(candidate.point != m.point for m in members):
                members.append(candidate)

    def run(self) -> SearchResult:
        s, rng = self.settings, random.Random(self.settings.seed)
        population: list[Candidate] = []
        self._fill(population, s.population, lambda: self.space.sample(rng))
        while not self.assess.exhausted and population:
            proposed_before = self.assess.proposals
            parents = sorted(population, key=ranking_key)[:s.parents]
            mutations = (s.population - len(parents)) // 2
            next_population = list(parents)
            self._fill(next_population, len(parents) + mutations,
                       lambda: mutate(self.space, rng.choice(parents).point, s.mutation_prob, rng))
            if len(parents) >= 2:
                self._fill(next_population, s.population,
                           lambda: crossover(self.space, *(p.point for p in rng.sample(parents, 2)),
                                             rng))
            else:
                self._fill(next_population, s.population, lambda: mutate(
                    self.space, parents[0].point, s.mutation_prob, rng))
            population = next_population
            if self.assess.proposals == proposed_before:
                break  # parents fill the whole population: nothing left to propose
        return self.assess.result()


class RandomSearch(BandSearch):
    """The baseline of the evolution: uniformly random valid points under the same band,
    budget of proposals, caching and seed (the arguments of :class:`EvolutionarySearch`)."""

    def run(self) -> SearchResult:
        rng = random.Random(self.settings.seed)
        while not self.assess.exhausted:
            self.assess(self.space.sample(rng))
        return self.assess.result()


def best_so_far(candidates: Sequence[Candidate]) -> list[float]:
    """The best metric after each evaluation (feasible candidate), in the order measured."""
    curve, best = [], float('-inf')
    for c in candidates:
        if c.feasible:
            best = max(best, c.metric)
            curve.append(best)
    return curve


def pareto_front(candidates: Sequence[Candidate]) -> list[Candidate]:
    """Feasible candidates not beaten by another on both latency (lower) and metric (higher)."""
    front, best_metric = [], float('-inf')
    for c in sorted((c for c in candidates if c.feasible), key=lambda c: (c.latency_ms, -c.metric)):
        if c.metric > best_metric:
            front.append(c)
            best_metric = c.metric
    return front
