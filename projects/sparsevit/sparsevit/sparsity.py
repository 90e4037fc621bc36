"""Layerwise sparsity configurations: validation, normal forms and search genes.

A configuration is plain data with one entry per stage, each either a number
(the window-pruning ratio of every block of that stage) or a list with one
ratio per block, e.g. ``[0.6, 0, [0.2, 0.2, 0.4, 0.4, 0.5, 0.5], 0]``.

The search groups blocks into *genes* (docs/method.md, section 3), by default one per
consecutive block pair: Swin-T (depths 2, 2, 6, 2) has the six genes
``stage0.pair0``, ``stage1.pair0``, ``stage2.pair0`` .. ``stage2.pair2`` and
``stage3.pair0``. Other groupings: one gene per block (``stage2.block3``) or
per stage (``stage2``). A configuration can also be given as a mapping from
gene names of any grouping to ratios; genes it does not name are dense (0).

Nothing here depends on OpenMMLab or torch.
"""
import math
from numbers import Real
from typing import Mapping, Sequence, Union

StageSparsity = Union[float, Sequence[float]]
SparsityLike = Union[Sequence[StageSparsity], Mapping[str, float], None]
BlockRatios = tuple[tuple[float, ...], ...]

GROUPINGS = ('pair', 'block', 'stage')


class SparsityError(ValueError):
    """An invalid sparsity configuration; the message names stage, block and value."""


def gene_blocks(depths: Sequence[int],
                grouping: str = 'pair') -> dict[str, tuple[int, tuple[int, ...]]]:
    """Map every gene name to ``(stage, block indices)`` in search order.

    Args:
        grouping: ``'pair'`` (consecutive block pairs, the paper's space),
            ``'block'`` (every block) or ``'stage'`` (one ratio per stage).
    """
    if grouping not in GROUPINGS:
        raise SparsityError(f'unknown gene grouping {grouping!r}; choose one of {GROUPINGS}')
    genes = {}
    for stage, depth in enumerate(depths):
        if grouping == 'stage':
            genes[f'stage{stage}'] = (stage, tuple(range(depth)))
            continue
        size = 2 if grouping == 'pair' else 1
        for index, start in enumerate(range(0, depth, size)):
            blocks = tuple(range(start, min(start + size, depth)))
            genes[f'stage{stage}.{grouping}{index}'] = (stage, blocks)
    return genes


def check_ratio(value, where: str) -> float:
    """``value`` as a float in [0, 1); ``where`` names it in the error."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise SparsityError(f'sparsity ratio of {where} must be a number in [0, 1), '
                            f'got {value!r}')
    value = float(value)
    if not 0.0 <= value < 1.0:  # also rejects NaN
        raise SparsityError(f'sparsity ratio {value} of {where} is outside [0, 1)')
    return value


def _from_genes(genes: Mapping[str, float], depths: Sequence[int]) -> list[list[float]]:
    layout = {}
    for grouping in GROUPINGS:
        layout.update(gene_blocks(depths, grouping))
    per_block = [[0.0] * depth for depth in depths]
    for name, value in genes.items():
        if name not in layout:
            raise SparsityError(f'unknown gene {name!r}; the genes of this backbone '
                                f'(depths={tuple(depths)}) are {list(gene_blocks(depths))} '
                                f'(or per block: stage0.block0, ...; per stage: stage0, ...)')
        stage, blocks = layout[name]
        ratio = check_ratio(value, f'gene {name}')
        for block in blocks:
            per_block[stage][block] = ratio
    return per_block


def normalize_sparsity(sparsity: SparsityLike, depths: Sequence[int]) -> BlockRatios:
    """Validate ``sparsity`` against the stage depths and return per-block ratios.

    Raises:
        SparsityError: wrong number of stages or blocks, a ratio outside
            [0, 1), a ratio that decreases with depth inside a stage, or an
            unknown gene name.
    """
    depths = tuple(int(d) for d in depths)
    if sparsity is None:
        return tuple((0.0, ) * depth for depth in depths)
    if isinstance(sparsity, Mapping):
        stages = _from_genes(sparsity, depths)
    elif isinstance(sparsity, (str, bytes)) or not isinstance(sparsity, Sequence):
        raise SparsityError(f'sparsity must be a list with one entry per stage '
                            f'({len(depths)} stages) or a mapping of gene names to '
                            f'ratios, got {sparsity!r}')
    else:
        stages = list(sparsity)
    if len(stages) != len(depths):
        raise SparsityError(f'sparsity has {len(stages)} stage entries but the backbone '
                            f'has {len(depths)} stages (depths={depths}): {sparsity!r}')
    per_block = []
    for stage, (entry, depth) in enumerate(zip(stages, depths)):
        if isinstance(entry, Sequence) and not isinstance(entry, (str, bytes)):
            if len(entry) != depth:
                raise SparsityError(f'sparsity of stage {stage} lists {len(entry)} ratios '
                                    f'but stage {stage} has {depth} blocks: {list(entry)!r}')
            ratios = tuple(
                check_ratio(value, f'stage {stage} block {block}')
                for block, value in enumerate(entry))
        else:
            ratios = (check_ratio(entry, f'stage {stage}'), ) * depth
        for block in range(1, depth):
            if ratios[block] < ratios[block - 1]:
                raise SparsityError(
                    f'sparsity of stage {stage} decreases with depth: block {block} has '
                    f'{ratios[block]} after {ratios[block - 1]} at block {block - 1}; '
                    f'ratios must be non-decreasing inside a stage (nested window '
                    f'selection)')
        per_block.append(ratios)
    return tuple(per_block)


def compact_sparsity(per_block: BlockRatios) -> list[StageSparsity]:
    """Shortest plain-data form: a number for a uniform stage, else a list."""
    return [ratios[0] if len(set(ratios)) == 1 else list(ratios) for ratios in per_block]


def sparsity_to_genes(per_block: BlockRatios, depths: Sequence[int],
                      grouping: str = 'pair') -> dict[str, float]:
    """Gene values of a per-block configuration.

    Raises:
        SparsityError: if two blocks of one gene have different ratios.
    """
    genes = {}
    for name, (stage, blocks) in gene_blocks(depths, grouping).items():
        values = {per_block[stage][block] for block in blocks}
        if len(values) != 1:
            raise SparsityError(f'blocks {list(blocks)} of stage {stage} form gene {name} '
                                f'but have different ratios {sorted(values)}')
        genes[name] = values.pop()
    return genes


def kept_windows(num_windows: int, ratio: float) -> int:
    """Windows a block keeps: ``floor(num_windows * (1 - ratio))``.

    The small tolerance makes ratios written in decimal (0.7, 0.9) give the
    count their decimal value gives, not one less from binary rounding.
    """
    return int(math.floor(num_windows * (1.0 - ratio) + 1e-6))
