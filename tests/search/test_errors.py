"""The search's errors speak of the library's parameters, never of a tool's options."""
import pytest

from sparsevit.search.errors import MetricNotFound, NotSAACheckpoint, SearchInputError
from sparsevit.search.task_evaluator import check_saa_checkpoint


def test_a_checkpoint_without_saa_is_refused_with_how_to_get_one():
    with pytest.raises(NotSAACheckpoint) as refused:
        check_saa_checkpoint({'meta': {'cfg': "custom_hooks = [dict(type='Other')]"}}, 'm.pth')
    message = str(refused.value)
    assert message.startswith('m.pth was not trained with sparsity-aware adaptation')
    assert 'fine-tune it with an SAA config' in message and '--' not in message
    check_saa_checkpoint({'meta': {'cfg': "dict(type='SparsityAdaptationHook')"}}, 'saa.pth')


def test_a_missing_metric_is_a_key_error_with_its_message_unquoted():
    err = MetricNotFound("the evaluator produced no metric 'coco/nope'")
    assert isinstance(err, KeyError) and isinstance(err, SearchInputError)
    assert str(err) == "the evaluator produced no metric 'coco/nope'"
