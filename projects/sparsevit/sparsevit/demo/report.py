"""The demo's final table and what it shows, in words.

Each row of the table carries a ``role`` (a :class:`Role` value) that says what it
shows; the conclusions read the rows by role, never by position.
"""
import json
from enum import Enum

from ..analysis import LatencyProtocol
from .equal_latency import MATCH_TOLERANCE

COVERAGE_TARGET = dict(ratio=1.5, coverage=0.8)  # coverage >= 1.5 x kept fraction, and >= 0.8


class Role(str, Enum):
    """What a row of the final table shows (its ``role`` key holds the value)."""
    DENSE = 'dense'  # the dense-trained model, dense
    DENSE_PRUNED = 'dense_pruned'  # the dense-trained model at the searched configuration
    SAA_DENSE = 'saa_dense'  # the SAA model, dense
    SEARCHED = 'searched'  # the SAA model at the searched configuration
    FINETUNED = 'finetuned'  # the fine-tuned model at the searched configuration
    UNIFORM = 'uniform'  # the SAA model at the uniform ratio of equal latency
    SMALLER = 'smaller'  # the dense model on the smaller input of equal latency
    SLOWER = 'smaller_slower'  # optional: the closest smaller input slower than the searched


def rows_by_role(rows: list[dict]) -> dict[Role, dict]:
    """The rows keyed by their role; every role but :attr:`Role.SLOWER` must have one row."""
    by_role: dict[Role, dict] = {}
    for row in rows:
        role = Role(row['role'])
        if role in by_role:
            raise ValueError(f'the table has two rows of role {role.value!r}')
        by_role[role] = row
    missing = [role.value for role in Role if role not in by_role and role is not Role.SLOWER]
    if missing:
        raise ValueError(f'the table has no row of role {", ".join(missing)}')
    return by_role


def _configuration(row: dict) -> str:
    if not any(row['sparsity']):
        return 'dense'
    ratios = set(row['sparsity'])
    return f'uniform {ratios.pop():g}' if len(ratios) == 1 else json.dumps(row['sparsity'])


def _input(row: dict) -> str:
    height, width = row['input']
    return f'{height}x{width}'


def format_table(rows: list[dict]) -> str:
    """One line per evaluated model: configuration, input, latency, speedup, bbox/mask mAP."""
    head = (f'{"model":<22} {"configuration":<32} {"input":>7} {"latency ms":>10} '
            f'{"speedup":>8} {"bbox mAP":>9} {"mask mAP":>9}')
    lines = [head, '-' * len(head)]
    for r in rows:
        lines.append(f'{r["model"]:<22} {_configuration(r):<32} {_input(r):>7} '
                     f'{r["latency_ms"]:>10.2f} {r["speedup"]:>7.2f}x {r["bbox_mAP"]:>9.3f} '
                     f'{r["segm_mAP"]:>9.3f}')
    return '\n'.join(lines)


def _latency_gap(row: dict, searched: dict) -> float:
    """How far ``row``'s latency is from the searched configuration's, as a fraction of it."""
    return abs(row['latency_ms'] / searched['latency_ms'] - 1)


def padding_gap_note(rows: list[dict], tolerance: float = MATCH_TOLERANCE) -> str:
    """Where no smaller input lies within ``tolerance`` of the searched latency, a sentence on
    the gap, with the comparison at its slower side when that row exists; else ''."""
    by_role = rows_by_role(rows)
    if _latency_gap(by_role[Role.SMALLER], by_role[Role.SEARCHED]) <= tolerance:
        return ''
    note = (f' No smaller input lies within {tolerance:.0%}: Swin pads every stage to whole '
            f'windows, so the dense latency jumps between input sizes.')
    if Role.SLOWER in by_role:
        slower, finetuned = by_role[Role.SLOWER], by_role[Role.FINETUNED]
        note += (f' On the slower side of the gap, the dense model at {_input(slower)} '
                 f'({slower["latency_ms"]:.2f} ms, more than the searched configuration) '
                 f'reaches {slower["bbox_mAP"]:.3f} bbox mAP: the fine-tuned sparse model '
                 f'({finetuned["bbox_mAP"]:.3f}) is '
                 f'{_verdict(finetuned["bbox_mAP"] > slower["bbox_mAP"])} it.')
    return note


def _verdict(better: bool) -> str:
    return 'better than' if better else 'not better than'


def conclusions(summary: dict, protocol: LatencyProtocol) -> str:
    """What the run showed: SAA under pruning, the equal-latency comparisons, coverage."""
    by_role = rows_by_role(summary['rows'])
    dense, searched, finetuned = (by_role[role] for role in (Role.DENSE, Role.SEARCHED,
                                                             Role.FINETUNED))
    uniform, smaller = by_role[Role.UNIFORM], by_role[Role.SMALLER]
    loss = summary['accuracy_loss_at_searched']
    cov, paper = summary['coverage'], summary['coverage_paper_rule']
    met = (cov['coverage'] >= COVERAGE_TARGET['coverage'] and
           cov['ratio'] >= COVERAGE_TARGET['ratio'])
    gaps = [_latency_gap(r, searched) for r in (uniform, smaller)]
    gap_note = (f' (more than {MATCH_TOLERANCE:.0%}: compare with care)'
                if max(gaps) > MATCH_TOLERANCE else '')
    lines = [
        f'From its own dense accuracy to the searched configuration, the dense-trained model '
        f'loses {loss["dense_trained"]:.3f} bbox mAP and the SAA model {loss["saa"]:.3f}: '
        f'sparsity-aware adaptation '
        f'{"keeps" if loss["saa"] < loss["dense_trained"] else "does not keep"} the accuracy '
        f'better.',
        f'At equal backbone latency ({searched["latency_ms"]:.2f} ms, {protocol.describe()}): '
        f'the searched configuration ({searched["bbox_mAP"]:.3f} bbox mAP, SAA model) is '
        f'{_verdict(searched["bbox_mAP"] > uniform["bbox_mAP"])} {_configuration(uniform)} '
        f'({uniform["bbox_mAP"]:.3f} at {uniform["latency_ms"]:.2f} ms), and the fine-tuned '
        f'sparse model at {_input(finetuned)} ({finetuned["bbox_mAP"]:.3f}) '
        f'is {_verdict(finetuned["bbox_mAP"] > smaller["bbox_mAP"])} the dense model at '
        f'{_input(smaller)} ({smaller["bbox_mAP"]:.3f} at '
        f'{smaller["latency_ms"]:.2f} ms). Latency gaps to the searched configuration: '
        f'{gaps[0]:.1%} and {gaps[1]:.1%}{gap_note}.' + padding_gap_note(summary['rows']),
        f'Object coverage of the kept stage-0 windows: {cov["coverage"]:.3f} of the object '
        f'pixels lie in the {cov["kept_fraction"]:.3f} of the windows kept ({cov["ratio"]:.2f}x '
        f'what content-blind pruning would cover); target >= {COVERAGE_TARGET["ratio"]}x and '
        f'>= {COVERAGE_TARGET["coverage"]}: {"met" if met else "not met"}. Per stage (object '
        f'pixels covered / windows kept): ' + ', '.join(
            f'{i}: {c["coverage"]:.3f} / {c["kept_fraction"]:.3f} ({c["ratio"]:.2f}x)'
            for i, c in enumerate(summary['coverage_per_stage'])) + '.',
        f'Scoring stage 0 after the patch norm, as the paper does, the same model and '
        f'configuration would keep windows holding {paper["coverage"]:.3f} of the object pixels '
        f'({paper["ratio"]:.2f}x; the demo scores it before the norm, docs/method.md).',
        f'Backbone speedup of the searched configuration: {finetuned["speedup"]:.2f}x; fine-tuned '
        f'bbox mAP {finetuned["bbox_mAP"]:.3f} vs dense {dense["bbox_mAP"]:.3f}.',
    ]
    if 'ablation' in summary:
        ablation = summary['ablation']
        lines.append('Search ablation, same budget: ' + '; '.join(
            f'{name} best {a["best"]:.3f} after {a["evaluations"]} evaluations'
            if a['best'] is not None else f'{name}: nothing in the band'
            for name, a in ablation.items()) + '.')
    return '\n'.join(lines)
