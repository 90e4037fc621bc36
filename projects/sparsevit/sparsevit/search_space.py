"""The layerwise search space: genes of a backbone and the ratios each may take."""
import random
from dataclasses import dataclass
from math import comb
from typing import Sequence

from .sparsity import (BlockRatios, SparsityError, SparsityLike, StageSparsity, check_ratio,
                       compact_sparsity, gene_blocks, normalize_sparsity, sparsity_to_genes)

DEFAULT_CHOICES = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)


@dataclass(frozen=True)
class Gene:
    """One searchable ratio shared by consecutive blocks of a stage."""
    name: str
    stage: int
    blocks: tuple[int, ...]


class SearchSpace:
    """Genes of a backbone with stage depths ``depths`` and their ratio choices.

    A point of the space is a tuple with one value per gene, in gene order;
    inside a stage the values are non-decreasing (nested window selection).
    ``grouping`` is ``'pair'`` (the paper's space), ``'block'`` or ``'stage'``.
    """

    def __init__(self, depths: Sequence[int], choices: Sequence[float] = DEFAULT_CHOICES,
                 grouping: str = 'pair'):
        self.depths = tuple(int(d) for d in depths)
        self.grouping = grouping
        self.choices = tuple(sorted(check_ratio(c, 'a choice') for c in choices))
        if not self.choices or len(set(self.choices)) != len(self.choices):
            raise SparsityError(f'choices must be distinct ratios, got {list(choices)}')
        self.genes = tuple(
            Gene(name, stage, blocks)
            for name, (stage, blocks) in gene_blocks(self.depths, grouping).items())

    def __repr__(self) -> str:
        return (f'SearchSpace(depths={self.depths}, genes={[g.name for g in self.genes]}, '
                f'choices={list(self.choices)})')

    def genes_of_stage(self, stage: int) -> list[int]:
        """Indices (into ``genes``) of the genes of one stage."""
        return [i for i, gene in enumerate(self.genes) if gene.stage == stage]

    def num_configurations(self) -> int:
        """Number of valid points: non-decreasing gene values inside each stage."""
        total = 1
        for stage in range(len(self.depths)):
            n = len(self.genes_of_stage(stage))
            total *= comb(len(self.choices) + n - 1, n)
        return total

    def to_sparsity(self, values: Sequence[float]) -> list[StageSparsity]:
        """Plain-data sparsity configuration of a point."""
        if len(values) != len(self.genes):
            raise SparsityError(f'expected {len(self.genes)} gene values '
                                f'{[g.name for g in self.genes]}, got {list(values)}')
        genes = {gene.name: value for gene, value in zip(self.genes, values)}
        return compact_sparsity(normalize_sparsity(genes, self.depths))

    def from_sparsity(self, sparsity: SparsityLike) -> tuple[float, ...]:
        """The point of a configuration; its ratios must be among the choices."""
        per_block: BlockRatios = normalize_sparsity(sparsity, self.depths)
        genes = sparsity_to_genes(per_block, self.depths, self.grouping)
        for name, value in genes.items():
            if not any(abs(value - c) < 1e-9 for c in self.choices):
                raise SparsityError(f'gene {name} has ratio {value}, which is not among '
                                    f'the choices {list(self.choices)}')
        return tuple(genes[gene.name] for gene in self.genes)

    def repair(self, values: Sequence[float]) -> tuple[float, ...]:
        """Sort the gene values of each stage ascending."""
        values = list(values)
        for stage in range(len(self.depths)):
            idx = self.genes_of_stage(stage)
            for i, value in zip(idx, sorted(values[i] for i in idx)):
                values[i] = value
        return tuple(values)

    def sample(self, rng: random.Random) -> tuple[float, ...]:
        """Each gene uniform over the choices, then sorted inside each stage."""
        return self.repair([rng.choice(self.choices) for _ in self.genes])
