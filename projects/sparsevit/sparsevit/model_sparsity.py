"""Read and change the sparsity of any model that contains sparse Swin backbones."""
from typing import Sequence

from torch import nn

from .models.backbones import SparseSwinTransformer
from .search_space import DEFAULT_CHOICES, SearchSpace
from .sparsity import SparsityLike, StageSparsity, normalize_sparsity


class NoSparseBackboneError(ValueError):
    """A model without a :class:`SparseSwinTransformer` backbone where one is needed."""


def sparse_backbones(model: nn.Module) -> list[SparseSwinTransformer]:
    """Every :class:`SparseSwinTransformer` inside ``model`` (wrappers included).

    Raises:
        NoSparseBackboneError: there is none.
    """
    found = [m for m in model.modules() if isinstance(m, SparseSwinTransformer)]
    if not found:
        config = getattr(getattr(model, 'cfg', None), 'filename', None)
        raise NoSparseBackboneError(
            f'{type(model).__name__}' + (f' of {config}' if config else '')
            + ' contains no SparseSwinTransformer backbone; its backbone must be a '
            'SparseSwinTransformer (type=\'SparseSwinTransformer\')')
    return found


def get_sparsity(model: nn.Module) -> list[StageSparsity]:
    """The active configuration of the sparse backbones of ``model``.

    Raises:
        NoSparseBackboneError: the model has no sparse backbone.
        ValueError: it has several with different configurations.
    """
    backbones = sparse_backbones(model)
    configs = [b.sparsity for b in backbones]
    if any(c != configs[0] for c in configs[1:]):
        raise ValueError(f'the sparse backbones of {type(model).__name__} have different '
                         f'configurations: {configs}')
    return configs[0]


def set_sparsity(model: nn.Module, sparsity: SparsityLike) -> None:
    """Apply ``sparsity`` to every sparse backbone of ``model``.

    Every backbone is validated before any is changed, so an invalid
    configuration leaves the model as it was.
    """
    backbones = sparse_backbones(model)
    validated = [normalize_sparsity(sparsity, b.depths) for b in backbones]
    for backbone, ratios in zip(backbones, validated):
        backbone.sparsity = ratios


def get_search_space(model: nn.Module, choices: Sequence[float] = DEFAULT_CHOICES,
                     grouping: str = 'pair') -> SearchSpace:
    """Search genes of the model's sparse backbones, each taking ``choices``."""
    depths = {b.depths for b in sparse_backbones(model)}
    if len(depths) != 1:
        raise ValueError(f'the sparse backbones of {type(model).__name__} have different '
                         f'depths {sorted(depths)}; they cannot share one search space')
    return SearchSpace(depths.pop(), choices, grouping)
