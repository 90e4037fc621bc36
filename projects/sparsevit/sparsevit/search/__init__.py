"""Latency-constrained evolutionary search of layerwise sparsity.

``EvolutionarySearch`` is the algorithm alone (any ``measure`` and ``evaluate``),
``RandomSearch`` its baseline; ``search_sparsity`` runs the evolution over a task
model with its log, progress and outputs.
"""
from .evolution import (Candidate, EvolutionarySearch, EvolutionSettings, RandomSearch,
                        SearchResult, best_so_far, crossover, mutate, pareto_front)
from .pipeline import NoFeasibleConfiguration, SearchOutcome, SearchRequest, search_sparsity
from .task_evaluator import TaskEvaluator

__all__ = [
    'Candidate', 'EvolutionSettings', 'EvolutionarySearch', 'NoFeasibleConfiguration',
    'RandomSearch', 'SearchOutcome', 'SearchRequest', 'SearchResult', 'TaskEvaluator',
    'best_so_far', 'crossover', 'mutate', 'pareto_front', 'search_sparsity'
]
