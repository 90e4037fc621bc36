"""The uniform ratio and the smaller input that match a configuration's latency."""
import torch
from torch import nn

from sparsevit import SparseSwinTransformer
from sparsevit.analysis import LatencyProtocol
from sparsevit.demo.equal_latency import (EqualLatency, _around, closest, dense_input_fractions,
                                          match_latency, matched_band, smaller_sizes)


class Detector(nn.Module):
    """Just a backbone, as sparse_backbones finds it in a task model."""

    def __init__(self):
        super().__init__()
        self.backbone = SparseSwinTransformer(embed_dims=32, depths=(2, 2, 2, 2),
                                              num_heads=(1, 2, 4, 8), window_size=4)


def test_smaller_sizes():
    assert smaller_sizes(64, 64, step=16, lowest=0.5) == [(48, 48), (32, 32)]
    # one side a step shorter fills the gap between two squares
    assert smaller_sizes(64, 64, step=8, lowest=0.5, max_aspect=1.2) == [
        (56, 64), (56, 56), (48, 56), (48, 48), (40, 48), (40, 40), (32, 32)]
    shapes = smaller_sizes(256, 256)
    assert (256, 256) not in shapes and shapes[0] == (248, 256) and shapes[-1] == (128, 128)
    areas = [h * w for h, w in shapes]
    assert areas == sorted(areas, reverse=True)
    assert all(128 <= h <= w <= 1.15 * h for h, w in shapes)
    # the full input's aspect is kept as the narrowest
    assert smaller_sizes(64, 128, step=16) == [(48, 96), (32, 64)]


def test_closest_latency():
    assert closest({0.0: 20.0, 0.5: 11.0, 0.8: 8.0}, 10.0) == 0.5
    assert closest({256: 20.0, 192: 11.0, 128: 6.0}, 5.0) == 128
    assert closest({'a': 9.0, 'b': 11.0}, 10.0) == 'a'


def test_match_times_every_candidate_and_returns_one_of_each():
    torch.manual_seed(0)
    model = Detector().eval()
    protocol = LatencyProtocol('cpu', 1, 128, 128, 'fp32', 1, 3)
    match = match_latency(model, [0.8] * 4, protocol, ratios=(0.0, 0.8),
                          sizes=((120, 128), (64, 64)))
    assert match.uniform_ratio in (0.0, 0.8) and match.size in ((120, 128), (64, 64))
    assert min(match.dense_ms, match.target_ms, match.uniform_ms, match.size_ms) > 0
    assert model.backbone.sparsity == [0.0, 0.0, 0.0, 0.0]  # timed on a copy
    assert set(match.to_dict()) == {'dense_ms', 'target_ms', 'uniform_ratio', 'uniform_ms', 'size',
                                    'size_ms', 'near_sizes_ms'}
    assert set(match.near_sizes_ms) == {'120x128', '64x64'}
    assert match.near_sizes_ms[f'{match.size[0]}x{match.size[1]}'] == match.size_ms


def test_slower_size_only_where_the_closest_is_more_than_5_percent_faster():
    def match(size_ms, near):
        return EqualLatency(20.0, 13.0, 0.6, 13.1, (208, 224), size_ms, near)
    assert match(12.5, {'208x224': 12.5, '216x232': 14.0}).slower_size() is None
    assert match(11.9, {'208x224': 11.9, '216x232': 14.2, '224x232': 14.0}).slower_size() == \
        ((224, 232), 14.0)
    assert match(11.9, {'208x224': 11.9}).slower_size() is None  # nothing timed above


def test_shapes_around_the_target_come_from_both_sides():
    latencies = {'a': 5.0, 'b': 9.0, 'c': 9.5, 'd': 14.0, 'e': 20.0}
    assert _around(list(latencies), latencies, 10.0, reach=1, spread=0.0) == ['c', 'd']
    assert _around(list(latencies), latencies, 10.0, reach=2, spread=0.0) == ['c', 'b', 'd', 'e']
    assert _around(list(latencies), latencies, 10.0, reach=1, spread=0.2) == ['c', 'b', 'd']
    assert _around(list(latencies), latencies, 30.0, reach=2) == ['e', 'd']


def test_dense_input_fractions_time_every_shape_against_the_full_input():
    torch.manual_seed(0)
    model = Detector().eval()
    protocol = LatencyProtocol('cpu', 1, 128, 128, 'fp32', 1, 3)
    fractions = dense_input_fractions(model, protocol, sizes=((120, 128), (64, 64)))
    assert set(fractions) == {(120, 128), (64, 64)}
    assert all(f > 0 for f in fractions.values())
    assert model.backbone.sparsity == [0.0, 0.0, 0.0, 0.0]  # timed on a copy


def test_matched_band_is_the_longest_part_a_smaller_input_reaches():
    # two clusters of smaller inputs with a padding gap between them (0.64-0.75)
    fractions = [0.62, 0.63, 0.75, 0.77, 0.79]
    low, high = matched_band(fractions, (0.6, 0.8), tolerance=0.03)
    assert (low, high) == (0.75 / 1.03, 0.8)  # the upper part is the longer one
    for t in (low + i * (high - low) / 50 for i in range(51)):  # every latency in it matches
        assert min(abs(s / t - 1) for s in fractions) <= 0.03 + 1e-12
    assert matched_band(fractions, (0.6, 0.68), tolerance=0.03) == (0.62 / 1.03, 0.63 / 0.97)
    assert matched_band(fractions, (0.61, 0.68), tolerance=0.03) == (0.61, 0.63 / 0.97)
    assert matched_band([0.7], (0.6, 0.8), tolerance=0.03) == (0.7 / 1.03, 0.7 / 0.97)
    assert matched_band([0.3, 0.95], (0.6, 0.8), tolerance=0.03) is None
    assert matched_band([], (0.6, 0.8)) is None
