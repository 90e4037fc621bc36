"""The demo's final table and its conclusions in words."""
import pytest

from sparsevit.analysis import LatencyProtocol
from sparsevit.demo.report import Role, conclusions, format_table, padding_gap_note


def row(role, model, sparsity, ms, bbox, size=(256, 256)):
    return dict(role=role.value, model=model, sparsity=sparsity, input=list(size),
                latency_ms=ms, speedup=20.0 / ms, bbox_mAP=bbox, segm_mAP=bbox - 0.01)


def coverage(covered, kept):
    return dict(coverage=covered, kept_fraction=kept, ratio=covered / kept)


def summary(size_ms=13.0, slower_ms=None):
    searched = [0.8, 0.2, 0.5, 0.4]
    rows = [row(Role.DENSE, 'dense model', [0.0] * 4, 20.0, 0.79),
            row(Role.DENSE_PRUNED, 'dense model', searched, 13.3, 0.70),
            row(Role.SAA_DENSE, 'SAA model', [0.0] * 4, 20.0, 0.85),
            row(Role.SEARCHED, 'SAA model', searched, 13.3, 0.87),
            row(Role.FINETUNED, 'fine-tuned model', searched, 13.3, 0.86),
            row(Role.UNIFORM, 'SAA model, uniform', [0.55] * 4, 13.0, 0.84),
            row(Role.SMALLER, 'dense model, smaller', [0.0] * 4, size_ms, 0.70, (208, 224))]
    if slower_ms is not None:
        rows.append(row(Role.SLOWER, 'dense model, smaller, slower', [0.0] * 4, slower_ms, 0.74,
                        (216, 232)))
    return dict(rows=rows,
                accuracy_loss_at_searched=dict(dense_trained=0.09, saa=-0.02),
                coverage=coverage(0.95, 0.2), coverage_paper_rule=coverage(0.26, 0.2),
                coverage_per_stage=[coverage(0.95, 0.2), coverage(0.9, 0.5)])


def test_table_has_a_line_per_row():
    lines = format_table(summary(11.4, 14.0)['rows']).splitlines()
    assert len(lines) == 2 + 8
    assert 'uniform 0.55' in lines[7] and '208x224' in lines[8] and '216x232' in lines[9]
    assert '[0.8, 0.2, 0.5, 0.4]' in lines[3]


def test_padding_gap_is_explained_only_when_no_shape_is_within_5_percent():
    assert padding_gap_note(summary(13.0)['rows']) == ''
    assert 'jumps between input sizes.' in padding_gap_note(summary(11.4)['rows'])
    note = padding_gap_note(summary(11.4, 14.0)['rows'])
    assert 'the dense model at 216x232 (14.00 ms, more than the searched configuration) ' \
        'reaches 0.740 bbox mAP: the fine-tuned sparse model (0.860) is better than it.' in note


def test_conclusions_report_targets_and_both_scoring_rules():
    protocol = LatencyProtocol('cpu', 1, 256, 256, 'fp32', 3, 20)
    text = conclusions(summary(11.4, 14.0), protocol)
    assert 'target >= 1.5x and >= 0.8: met' in text
    assert 'as the paper does' in text and '0.260 of the object pixels (1.30x' in text
    assert 'more than 5%: compare with care' in text and '216x232 (14.00 ms' in text
    assert 'not met' in conclusions(dict(summary(), coverage=coverage(0.3, 0.3)), protocol)


def test_rows_are_read_by_role_not_by_position():
    rows = summary(11.4, 14.0)['rows']
    protocol = LatencyProtocol('cpu', 1, 256, 256, 'fp32', 3, 20)
    shuffled = dict(summary(11.4, 14.0), rows=rows[::-1])
    assert conclusions(shuffled, protocol) == conclusions(summary(11.4, 14.0), protocol)
    assert padding_gap_note(rows[::-1]) == padding_gap_note(rows)
    with pytest.raises(ValueError, match="no row of role uniform"):
        padding_gap_note([r for r in rows if r['role'] != 'uniform'])
    with pytest.raises(ValueError, match="two rows of role 'dense'"):
        padding_gap_note(rows + rows[:1])
