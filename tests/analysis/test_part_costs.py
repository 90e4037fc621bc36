import pytest
import torch

from sparsevit import SparseSwinTransformer
from sparsevit.analysis.part_costs import PartCosts, kept_shares, mean_parts, part_costs, part_kind


@pytest.mark.parametrize('part, kind', [
    ('stage0 block0', 'blocks'), ('stage2 block11', 'blocks'), ('stage1 scoring', 'scoring'),
    ('embed', 'fixed'), ('stage0 layout', 'fixed'), ('stage3 output', 'fixed')])
def test_parts_fall_in_their_kind(part, kind):
    assert part_kind(part) == kind


def test_mean_parts_takes_the_middle_half_and_counts_missing_parts_as_nothing():
    forwards = [dict(embed=0.001, a=0.004), dict(embed=0.002), dict(embed=0.003, a=0.004),
                dict(embed=0.100, a=0.004)]
    parts = mean_parts(forwards)
    assert parts['embed'] == pytest.approx(2.5)  # the middle half: 2 and 3 ms
    assert parts['a'] == pytest.approx(4.0)  # 0, 4, 4, 4 ms: the middle half is 4 and 4


def test_part_costs_sum_by_kind_and_scale_the_dense_blocks_by_the_kept_share():
    dense = {'embed': 2.0, 'stage0 scoring': 0.1, 'stage0 block0': 10.0, 'stage0 block1': 12.0,
             'stage0 output': 3.0}
    pruned = {'embed': 2.0, 'stage0 scoring': 1.0, 'stage0 block0': 6.0, 'stage0 output': 3.0}
    costs = part_costs(pruned, dense, {'stage0 block0': 0.5, 'stage0 block1': 0.0})
    assert costs == PartCosts(fixed_ms=5.0, scoring_ms=1.0, blocks_ms=6.0,
                              proportional_blocks_ms=5.0)
    assert costs.total_ms == 12.0 and costs.proportional_ms == 10.0
    assert costs.to_dict()['proportional_ms'] == 10.0 and costs.to_dict()['total_ms'] == 12.0
    # the dense configuration is its own proportional latency, up to its scoring
    dense_costs = part_costs(dense, dense, dict.fromkeys(dense, 1.0))
    assert dense_costs.proportional_ms == pytest.approx(dense_costs.total_ms - 0.1)


def test_kept_shares_are_the_windows_each_block_keeps(tiny_swin_kwargs):
    backbone = SparseSwinTransformer(**tiny_swin_kwargs).eval()
    images = torch.randn(1, 3, 64, 64)
    backbone.sparsity = [[0.0, 0.5], 0.8, 0.0, 0.0]  # stage 1: 0 of 2 x 2 windows
    shares = kept_shares(backbone, images, backbone.block_ratios)
    assert shares['stage0 block0'] == 1.0
    assert shares['stage0 block1'] == 0.5  # 8 of 4 x 4 windows
    assert shares['stage1 block0'] == shares['stage1 block1'] == 0.0
    assert set(shares) == {f'stage{s} block{b}' for s, depth in enumerate(backbone.depths)
                           for b in range(depth)}
