"""A latency table: the backbone latency of any configuration, predicted from measured parts.

The model (additive over blocks, measured on the target runtime)::

    latency = fixed_ms
              + sum over stages that prune (a block with ratio > 0) of scoring_ms[stage]
              + sum over blocks of block_ms[stage][ratio of the block]

``fixed_ms`` holds the patch embedding, the window partitions, patch merging
and the output norms; ``scoring_ms`` the token magnitudes and window ranking
of a stage; ``block_ms`` one Swin block on the windows it keeps at a ratio.
The table is one JSON file; it records how it was measured and for what
backbone, input and choices, and refuses to predict anything else.

Nothing here depends on torch.
"""
import hashlib
import json
import math
from pathlib import Path
from typing import Any, Optional, Sequence, Union

from ..fileio import dump_json
from ..sparsity import BlockRatios, SparsityLike, normalize_sparsity

FORMAT = 'sparsevit-latency-table'
FORMAT_VERSION = 1
RATIO_TOLERANCE = 1e-9


# a run whose configurations moved against the dense backbone by more than this (and more than
# the rounds' own noise) between its first and second half of rounds ran on a machine that
# changed
DRIFT_WARNING = 0.03


class LatencyTableError(ValueError):
    """A table that cannot be read, or that was not made for what it is asked to predict."""


def ratio_key(ratio: float) -> str:
    """The JSON key of a ratio: its shortest decimal form (``0.3``, ``0.0``)."""
    return repr(float(ratio))


def architecture_of(backbone: Any) -> dict:
    """What determines the cost of a :class:`SparseSwinTransformer`, read from the module."""
    embed = backbone.patch_embed
    first_blocks = [stage.blocks[0] for stage in backbone.stages]
    return dict(
        in_channels=embed.projection.in_channels, embed_dims=embed.projection.out_channels,
        patch_size=embed.projection.kernel_size[0], patch_stride=embed.projection.stride[0],
        depths=list(backbone.depths),
        num_heads=[block.attn.w_msa.num_heads for block in first_blocks],
        window_size=first_blocks[0].attn.window_size,
        mlp_hidden=[block.ffn.feedforward_channels for block in first_blocks],
        qkv_bias=first_blocks[0].attn.w_msa.qkv.bias is not None,
        patch_norm=embed.norm is not None, use_abs_pos_embed=bool(backbone.use_abs_pos_embed),
        out_indices=list(backbone.out_indices),
        score_before_patch_norm=bool(backbone.score_before_patch_norm))


def stage_geometry(architecture: dict, height: int, width: int) -> list[dict]:
    """Per stage: the token grid, the window count and the channels at a ``height x width``
    input."""
    h, w = -(-height // architecture['patch_stride']), -(-width // architecture['patch_stride'])
    window = architecture['window_size']
    stages = []
    for stage, depth in enumerate(architecture['depths']):
        stages.append(dict(tokens=[h, w], windows=-(-h // window) * -(-w // window),
                           depth=depth, channels=architecture['embed_dims'] * 2**stage))
        h, w = -(-h // 2), -(-w // 2)
    return stages


def geometry_fingerprint(architecture: dict, height: int, width: int, batch: int) -> str:
    """A short hash of the architecture and the per-stage geometry at an input."""
    text = json.dumps(dict(architecture=architecture, batch=batch,
                           geometry=stage_geometry(architecture, height, width)), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def drift_warning(drift: Optional[dict], what: str) -> Optional[str]:
    """A warning when a run's ``drift`` (``{'change': fraction, 'configuration': name,
    'noise': fraction}``: the largest change of a latency ratio to the dense backbone between
    the first and the second half of its rounds, and the noise of that change, which tables
    written before it was weighed lack) exceeds both :data:`DRIFT_WARNING` and its noise,
    else None."""
    if drift is None or abs(drift['change']) <= max(DRIFT_WARNING, drift.get('noise', 0.0)):
        return None
    noise = drift.get('noise')  # not recorded by tables written before it was weighed
    beyond = '' if noise is None else f' (beyond the rounds\' own noise of {100 * noise:.1f}%)'
    return (f'WARNING: the machine changed while {what} was timed: {drift["configuration"]} '
            f'moved by {100 * drift["change"]:+.1f}% against the dense backbone between the '
            f'first and the second half of the rounds{beyond}, which the dense ratio cannot '
            'scale out; time it again on a quiet machine')


def _first_line(err: json.JSONDecodeError) -> str:
    return f'{err.msg} at line {err.lineno} column {err.colno}'


class LatencyTable:
    """A measured table (the dict of its JSON file) and the predictions it allows.

    Args:
        data: the table as written by :meth:`save`.
        source: where it came from, for messages (a path).
    """

    def __init__(self, data: dict, source: str = 'the latency table'):
        self.data, self.source = data, source
        self._check_format()
        protocol = data['protocol']
        self.architecture: dict = data['backbone']['architecture']
        self.depths = tuple(self.architecture['depths'])
        self.choices = tuple(float(c) for c in data['choices'])
        self.shape = tuple(protocol['shape'])
        self.batch = int(protocol['batch'])
        self.fixed_ms = float(data['fixed_ms'])
        self.dense_ms = float(data['dense_ms'])
        self.scoring_ms = [float(s['scoring_ms']) for s in data['stages']]
        self.block_ms = [{float(k): float(v) for k, v in s['block_ms'].items()}
                         for s in data['stages']]

    @classmethod
    def load(cls, path: Union[str, Path]) -> 'LatencyTable':
        """Read a table file; one :class:`LatencyTableError` line for anything unreadable."""
        path = Path(path)
        try:
            text = path.read_text()
        except OSError as err:
            raise LatencyTableError(f'{path}: cannot read the latency table '
                                    f'({err.strerror or err})') from err
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            stripped = text.strip()
            if stripped.startswith('{') and not stripped.endswith('}'):  # a table cut short
                raise LatencyTableError(f'{path} is truncated: its JSON ends early '
                                        f'({_first_line(err)}); measure the table again') from err
            raise LatencyTableError(f'{path} is not a latency table: not valid JSON '
                                    f'({_first_line(err)})') from err
        return cls(data, str(path))

    def save(self, path: Union[str, Path]) -> None:
        """Write the table as indented JSON, atomically."""
        dump_json(self.data, path)

    def _check_format(self) -> None:
        data = self.data
        if not isinstance(data, dict) or data.get('format') != FORMAT:
            raise LatencyTableError(f'{self.source} is not a latency table (no "format": '
                                    f'"{FORMAT}"); measure one with '
                                    'tools/analysis/latency_table.py')
        version = data.get('format_version')
        if version != FORMAT_VERSION:
            raise LatencyTableError(
                f'{self.source} is a latency table of format version {version}; this version '
                f'of sparsevit reads version {FORMAT_VERSION}: measure the table again')
        missing = [key for key in ('protocol', 'backbone', 'choices', 'fixed_ms', 'dense_ms',
                                   'stages') if key not in data]
        if missing:
            raise LatencyTableError(f'{self.source} is incomplete: it has no '
                                    f'{", ".join(missing)}; measure the table again')
        depths = data['backbone'].get('architecture', {}).get('depths')
        if not isinstance(depths, list) or len(data['stages']) != len(depths):
            raise LatencyTableError(f'{self.source} is incomplete: its stages do not match '
                                    f'the backbone depths {depths}; measure the table again')

    # --- what the table is for -------------------------------------------------------------

    @property
    def protocol(self) -> dict:
        return self.data['protocol']

    @property
    def fingerprint(self) -> str:
        return self.data['backbone']['fingerprint']

    def check_compatible(self, architecture: Optional[dict] = None,
                         shape: Optional[Sequence[int]] = None, batch: Optional[int] = None,
                         choices: Optional[Sequence[float]] = None) -> None:
        """Refuse, with one line naming the first mismatch, a backbone, an input shape, a batch
        or search choices the table was not measured for. A table may hold more ratios than
        the search uses, never fewer."""
        if architecture is not None and architecture != self.architecture:
            differing = sorted(k for k in {**architecture, **self.architecture}
                               if architecture.get(k) != self.architecture.get(k))
            details = '; '.join(f'{k} {self.architecture.get(k)} in the table, '
                                f'{architecture.get(k)} in the model' for k in differing)
            raise LatencyTableError(f'{self.source} was measured for another backbone '
                                    f'architecture ({details}): measure a table for this '
                                    'model\'s config')
        if shape is not None and tuple(shape) != self.shape:
            raise LatencyTableError(
                f'{self.source} was measured at input {self.shape[0]}x{self.shape[1]}, the '
                f'search asks {shape[0]}x{shape[1]}: search at {self.shape[0]}x{self.shape[1]} '
                f'if that is the deployment input, or measure a table at {shape[0]}x{shape[1]}')
        if batch is not None and int(batch) != self.batch:
            raise LatencyTableError(
                f'{self.source} was measured at batch {self.batch}, the search asks batch '
                f'{batch}: search at batch {self.batch} if that is the deployment batch, or '
                f'measure a table at batch {batch}')
        if choices is not None:
            missing = [c for c in choices if self._choice(c) is None]
            if missing:
                raise LatencyTableError(
                    f'{self.source} has no entries for the ratios {missing} (its choices are '
                    f'{list(self.choices)}): search those choices, or measure a table whose '
                    f'choices include {sorted({*self.choices, *missing})}')

    def _choice(self, ratio: float) -> Optional[float]:
        return next((c for c in self.choices if abs(c - ratio) < RATIO_TOLERANCE), None)

    def warnings(self) -> list[str]:
        """What makes this table's predictions doubtful: :meth:`noise_warning` and the drift
        of its measuring run (:func:`drift_warning`)."""
        found = (self.noise_warning(), drift_warning(self.protocol.get('drift'), 'the table'))
        return [warning for warning in found if warning is not None]

    def noise_warning(self, tolerance: float = 0.02) -> Optional[str]:
        """A warning naming the parts that cost less than ``-tolerance`` of the dense latency
        (differences of timings that the machine's noise outweighed), or None.

        ``fixed_ms`` is not among them: where the blocks were timed in graphs of one stage,
        it also takes up what they cost there beyond their cost inside the whole graph, and
        may be below zero without noise.
        """
        parts = {}
        for s, (scoring, blocks) in enumerate(zip(self.scoring_ms, self.block_ms)):
            parts[f'stage{s} scoring'] = scoring
            parts.update({f'stage{s} block at {ratio_key(c)}': ms for c, ms in blocks.items()})
        negative = [f'{name} {ms:.2f} ms' for name, ms in parts.items()
                    if ms < -tolerance * self.dense_ms]
        if not negative:
            return None
        return (f'WARNING: {len(negative)} parts of {self.source} cost less than zero '
                f'({", ".join(negative[:3])}{", ..." if len(negative) > 3 else ""}): either the '
                f'machine\'s speed changed while measuring, and its predictions carry that '
                f'noise (measure again on a quiet machine or with more timed rounds), or the '
                f'runtime optimises a stage whose blocks are all skipped beyond the others (a '
                f'compiled graph can), which its predictions do not carry: compare its '
                f'predictions with measured latencies before trusting it')

    # --- prediction ---------------------------------------------------------------------------

    def predict(self, sparsity: SparsityLike) -> float:
        """Backbone latency (ms) of ``sparsity`` on the table's runtime, device and input.

        Raises:
            LatencyTableError: a block with a ratio the table has no entry for.
        """
        per_block: BlockRatios = normalize_sparsity(sparsity, self.depths)
        total = self.fixed_ms
        for stage, ratios in enumerate(per_block):
            if any(r > 0 for r in ratios):
                total += self.scoring_ms[stage]
            for block, ratio in enumerate(ratios):
                choice = self._choice(ratio)
                if choice is None:
                    raise LatencyTableError(
                        f'stage {stage} block {block} has ratio {ratio}, for which '
                        f'{self.source} has no entry (it has {list(self.choices)}); the table '
                        'does not extrapolate: measure one with that ratio among --choices')
                total += self.block_ms[stage][choice]
        return total


def relative_error(predicted: float, measured: float) -> float:
    """``predicted / measured - 1``, NaN when nothing was measured."""
    return predicted / measured - 1.0 if measured > 0 else math.nan
