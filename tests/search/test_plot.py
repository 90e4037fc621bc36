"""The pictures of searches, drawn through a figure canvas."""
import matplotlib

from sparsevit.search import Candidate
from sparsevit.search.plot import plot_best_over_evaluations


def test_best_over_evaluations_draws_each_search(tmp_path):
    backend = matplotlib.get_backend()
    runs = dict(evolution=[Candidate((0.1,), 50.0, 0.3), Candidate((0.4,), 52.0, 0.5)],
                random=[Candidate((0.2,), 90.0), Candidate((0.3,), 55.0, 0.2)],
                empty=[Candidate((0.5,), 95.0)])
    plot_best_over_evaluations(runs, 'coco/bbox_mAP', tmp_path / 'ablation.png')
    assert (tmp_path / 'ablation.png').read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    assert matplotlib.get_backend() == backend
