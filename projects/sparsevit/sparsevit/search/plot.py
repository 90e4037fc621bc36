"""Pictures of a search: every candidate, the latency band, the Pareto front and the best;
and the best metric over evaluations of several searches side by side."""
from pathlib import Path
from typing import Mapping, Sequence

from matplotlib.figure import Figure

from ..fileio import save_figure
from .evolution import Candidate, best_so_far


def plot_search(candidates: Sequence[Candidate], front: Sequence[Candidate], best: Candidate,
                band: tuple[float, float], metric_key: str, out_file: Path,
                title: str = 'SparseViT layerwise sparsity search',
                latency_label: str = 'backbone latency (ms)') -> None:
    """Scatter latency vs metric of the evaluated candidates; rug of the rejected latencies;
    ``latency_label`` names the latency axis (and where the latencies came from)."""
    feasible = [c for c in candidates if c.feasible]
    rejected = [c.latency_ms for c in candidates if not c.feasible]
    fig = Figure(figsize=(7, 4.5), dpi=120)
    ax = fig.subplots()
    ax.axvspan(*band, color='tab:green', alpha=0.08,
               label=f'latency band {band[0]:g}-{band[1]:g} ms')
    ax.scatter([c.latency_ms for c in feasible], [c.metric for c in feasible], s=14,
               color='tab:blue', alpha=0.6, label=f'evaluated ({len(feasible)})')
    ax.step([c.latency_ms for c in front], [c.metric for c in front], where='post',
            color='tab:orange', linewidth=1.5, label='Pareto front')
    ax.scatter([c.latency_ms for c in front], [c.metric for c in front], s=22, color='tab:orange')
    ax.scatter([best.latency_ms], [best.metric], marker='*', s=220, color='tab:red', zorder=5,
               label=f'best: {best.metric:.4g} at {best.latency_ms:.1f} ms')
    if rejected:
        ax.plot(rejected, [0] * len(rejected), '|', color='grey', markersize=12,
                transform=ax.get_xaxis_transform(), label=f'outside the band ({len(rejected)})')
    latencies = [c.latency_ms for c in candidates]
    margin = 0.05 * (max(latencies) - min(latencies)) or 0.5
    ax.set_xlim(min(latencies) - margin, max(latencies) + margin)  # the data, not a wide band
    ax.set_xlabel(latency_label)
    ax.set_ylabel(metric_key)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc='best', framealpha=0.85)
    fig.tight_layout()
    save_figure(fig, out_file)


def plot_best_over_evaluations(searches: Mapping[str, Sequence[Candidate]], metric_key: str,
                               out_file: Path, title: str = 'Search strategies, same budget'
                               ) -> None:
    """One line per search: the best ``metric_key`` found after each evaluation."""
    fig = Figure(figsize=(6.5, 4), dpi=120)
    ax = fig.subplots()
    for name, candidates in searches.items():
        curve = best_so_far(candidates)
        if curve:
            ax.step(range(1, len(curve) + 1), curve, where='post',
                    label=f'{name}: best {curve[-1]:.4g} after {len(curve)} evaluations')
    ax.set_xlabel('evaluations (configurations inside the latency band)')
    ax.set_ylabel(f'best {metric_key} so far')
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc='lower right', framealpha=0.85)
    fig.tight_layout()
    save_figure(fig, out_file)
