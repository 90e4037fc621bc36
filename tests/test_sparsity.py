import math

import pytest

from sparsevit.sparsity import (SparsityError, compact_sparsity, gene_blocks, kept_windows,
                                normalize_sparsity, sparsity_to_genes)

SWIN_T = (2, 2, 6, 2)


def test_numbers_and_lists_expand_per_block():
    per_block = normalize_sparsity([0.6, 0, [0.2, 0.2, 0.4, 0.4, 0.5, 0.5], 0], SWIN_T)
    assert per_block == ((0.6, 0.6), (0.0, 0.0), (0.2, 0.2, 0.4, 0.4, 0.5, 0.5), (0.0, 0.0))
    assert normalize_sparsity(None, SWIN_T) == tuple((0.0, ) * d for d in SWIN_T)


def test_compact_form_round_trips():
    config = [0.6, 0.0, [0.2, 0.2, 0.4, 0.4, 0.5, 0.5], 0.0]
    assert compact_sparsity(normalize_sparsity(config, SWIN_T)) == config
    assert compact_sparsity(normalize_sparsity([0.3, [0.1, 0.1], 0.2, 0], SWIN_T)) == [
        0.3, 0.1, 0.2, 0.0]


def test_gene_mapping():
    assert list(gene_blocks(SWIN_T)) == [
        'stage0.pair0', 'stage1.pair0', 'stage2.pair0', 'stage2.pair1', 'stage2.pair2',
        'stage3.pair0']
    assert gene_blocks(SWIN_T)['stage2.pair1'] == (2, (2, 3))
    assert len(gene_blocks((2, 2, 18, 2))) == 12  # deeper Swins: one gene per pair
    genes = {'stage0.pair0': 0.6, 'stage2.pair1': 0.4, 'stage2.pair2': 0.5}
    per_block = normalize_sparsity(genes, SWIN_T)
    assert per_block[2] == (0.0, 0.0, 0.4, 0.4, 0.5, 0.5)
    assert sparsity_to_genes(per_block, SWIN_T) == {
        'stage0.pair0': 0.6, 'stage1.pair0': 0.0, 'stage2.pair0': 0.0, 'stage2.pair1': 0.4,
        'stage2.pair2': 0.5, 'stage3.pair0': 0.0}


@pytest.mark.parametrize('config, message', [
    ([0.6, 0, 0.2], r'3 stage entries but the backbone has 4 stages'),
    ([0.6, 0, [0.2, 0.4], 0], r'stage 2 lists 2 ratios but stage 2 has 6 blocks'),
    ([1.0, 0, 0, 0], r'ratio 1.0 of stage 0 is outside \[0, 1\)'),
    ([0, -0.1, 0, 0], r'ratio -0.1 of stage 1 is outside'),
    ([0, 0, [0, 0, 0, 0, 0, 1.5], 0], r'ratio 1.5 of stage 2 block 5 is outside'),
    ([0, 0, 0, math.nan], r'ratio nan of stage 3 is outside'),
    ([0, 0, 0, '0.5'], r'ratio of stage 3 must be a number'),
    ([0, 0, 0, True], r'ratio of stage 3 must be a number'),
    ([0, 0, [0.2, 0.4, 0.2, 0.4, 0.5, 0.5], 0],
     r'stage 2 decreases with depth: block 2 has 0.2 after 0.4 at block 1'),
    ({'stage4.pair0': 0.5}, r"unknown gene 'stage4.pair0'"),
    ({'stage0.pair0': 2}, r'ratio 2.0 of gene stage0.pair0 is outside'),
    ('0.5', r'must be a list with one entry per stage'),
    (0.5, r'must be a list with one entry per stage'),
])
def test_invalid_configurations_name_the_problem(config, message):
    with pytest.raises(SparsityError, match=message):
        normalize_sparsity(config, SWIN_T)


def test_genes_with_unequal_blocks_are_rejected():
    per_block = normalize_sparsity([0, 0, [0.1, 0.2, 0.2, 0.2, 0.2, 0.2], 0], SWIN_T)
    with pytest.raises(SparsityError, match=r'blocks \[0, 1\] of stage 2 form gene stage2.pair0'):
        sparsity_to_genes(per_block, SWIN_T)


@pytest.mark.parametrize('num_windows, ratio, expected', [
    (576, 0.6, 230), (9, 0.6, 3), (10, 0.7, 3), (10, 0.9, 1), (10, 0.1, 9), (36, 0.0, 36),
    (1, 0.5, 0)])
def test_kept_windows_is_floor_of_remaining_fraction(num_windows, ratio, expected):
    assert kept_windows(num_windows, ratio) == expected
