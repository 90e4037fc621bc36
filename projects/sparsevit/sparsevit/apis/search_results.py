"""Pick a configuration from the outputs of a search (``pareto.json`` of ``tools/search.py``)."""
import json
from pathlib import Path
from typing import Union


def select_from_search(search_dir: Union[str, Path], latency_budget_ms: float,
                       prefer: str = 'accuracy') -> dict:
    """A searched configuration whose latency fits the budget, from ``pareto.json``.

    Args:
        prefer: ``'accuracy'``: the best metric within the budget (the slowest
            fitting point of the front); ``'speed'``: the fastest searched one.
            Latencies are those of the search's own protocol (``best.json``).

    Raises:
        FileNotFoundError: no search outputs in ``search_dir``.
        ValueError: no searched configuration fits the budget.
    """
    path = Path(search_dir) / 'pareto.json'
    if not path.is_file():
        raise FileNotFoundError(f'{path} not found: give the work dir of tools/search.py')
    if prefer not in ('accuracy', 'speed'):
        raise ValueError(f"prefer must be 'accuracy' or 'speed', got {prefer!r}")
    front = json.loads(path.read_text())
    fitting = [p for p in front if p['latency_ms'] <= latency_budget_ms]
    if not fitting:
        fastest = min(p['latency_ms'] for p in front)
        raise ValueError(f'no searched configuration fits {latency_budget_ms} ms; the fastest '
                         f'in {path} takes {fastest:.2f} ms')
    if prefer == 'speed':
        return min(fitting, key=lambda p: p['latency_ms'])
    return max(fitting, key=lambda p: (p['metric'], -p['latency_ms']))
