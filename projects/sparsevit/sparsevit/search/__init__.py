"""Latency-constrained evolutionary search of layerwise sparsity."""
from .evolution import (Candidate, EvolutionarySearch, EvolutionSettings, SearchResult, crossover,
                        mutate, pareto_front)

__all__ = [
    'Candidate', 'EvolutionSettings', 'EvolutionarySearch', 'SearchResult', 'crossover', 'mutate',
    'pareto_front'
]
