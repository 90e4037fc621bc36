"""Latency-constrained evolutionary search of layerwise sparsity.

``EvolutionarySearch`` is the algorithm alone (any ``measure`` and ``evaluate``);
``search_sparsity`` runs it over a task model with its log, progress and outputs.
"""
from .evolution import (Candidate, EvolutionarySearch, EvolutionSettings, SearchResult, crossover,
                        mutate, pareto_front)
from .pipeline import NoFeasibleConfiguration, SearchOutcome, SearchRequest, search_sparsity
from .task_evaluator import TaskEvaluator

__all__ = [
    'Candidate', 'EvolutionSettings', 'EvolutionarySearch', 'NoFeasibleConfiguration',
    'SearchOutcome', 'SearchRequest', 'SearchResult', 'TaskEvaluator', 'crossover', 'mutate',
    'pareto_front', 'search_sparsity'
]
