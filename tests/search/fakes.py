"""A stand-in task for the search tests: latency and metric fall with the mean ratio."""
from sparsevit.search import EvolutionSettings
from sparsevit.search_space import SearchSpace
from sparsevit.sparsity import normalize_sparsity

SPACE = SearchSpace((2, 2, 6, 2))
SETTINGS = EvolutionSettings(population=8, parents=2, mutation_prob=0.3, budget=60, seed=0)


class FakeTask:
    """Latency falls and the metric falls with the mean ratio; counts its calls."""

    def __init__(self, fail_after=None):
        self.latency_calls, self.metric_calls, self.fail_after = [], [], fail_after

    def latency(self, sparsity):
        if self.fail_after is not None and len(self.latency_calls) >= self.fail_after:
            raise KeyboardInterrupt  # the process is killed here
        self.latency_calls.append(sparsity)
        ratios = [r for stage in normalize_sparsity(sparsity, SPACE.depths) for r in stage]
        return 100.0 - 80.0 * sum(ratios) / len(ratios)

    def metric(self, sparsity):
        self.metric_calls.append(sparsity)
        ratios = [r for stage in normalize_sparsity(sparsity, SPACE.depths) for r in stage]
        return 0.5 - sum(r * r for r in ratios) / len(ratios) - 0.01 * ratios[0]


def settings_dict():
    return dict(band=[55.0, 75.0], **SETTINGS.__dict__)
