import random

import pytest

from sparsevit import DEFAULT_CHOICES, SearchSpace, SparsityError


def test_swin_t_space_has_six_genes_and_120285_configurations():
    space = SearchSpace((2, 2, 6, 2))
    assert [g.name for g in space.genes] == [
        'stage0.pair0', 'stage1.pair0', 'stage2.pair0', 'stage2.pair1', 'stage2.pair2',
        'stage3.pair0']
    assert space.choices == DEFAULT_CHOICES
    assert space.num_configurations() == 120285


def test_points_convert_to_configurations_and_back():
    space = SearchSpace((2, 2, 6, 2))
    point = (0.6, 0.0, 0.2, 0.4, 0.5, 0.0)
    config = space.to_sparsity(point)
    assert config == [0.6, 0.0, [0.2, 0.2, 0.4, 0.4, 0.5, 0.5], 0.0]
    assert space.from_sparsity(config) == point


def test_repair_sorts_inside_stages_only():
    space = SearchSpace((2, 2, 6, 2))
    assert space.repair((0.8, 0.1, 0.5, 0.2, 0.3, 0.0)) == (0.8, 0.1, 0.2, 0.3, 0.5, 0.0)


def test_samples_are_valid_and_cover_the_choices():
    space = SearchSpace((2, 2, 6, 2))
    rng = random.Random(0)
    samples = [space.sample(rng) for _ in range(500)]
    for point in samples:
        assert space.repair(point) == point
        space.to_sparsity(point)  # validates
    assert {v for p in samples for v in p} == set(DEFAULT_CHOICES)


def test_bad_choices_and_points_are_rejected():
    with pytest.raises(SparsityError, match='outside'):
        SearchSpace((2, 2, 6, 2), choices=(0.0, 1.0))
    space = SearchSpace((2, 2, 6, 2), choices=(0.0, 0.5))
    with pytest.raises(SparsityError, match='expected 6 gene values'):
        space.to_sparsity((0.5, 0.5))
    with pytest.raises(SparsityError, match='not among the choices'):
        space.from_sparsity([0.3, 0, 0, 0])
