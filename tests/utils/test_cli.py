"""How a tool ends on a user's mistake: ``run_tool``, ``--debug`` and the one-line message."""
import argparse

import pytest

from sparsevit import CheckpointError, SparsityError
from sparsevit.datasets import DataFilesError
from sparsevit.utils.cli import (DEBUG_ENV, USER_ERRORS, UsageError, add_debug_arg, debugging,
                                 error_line, run_tool)


class ToolLayerError(ValueError):
    """Stands for an error type of a layer that a tool drives (search, deployment)."""


def failing(err: BaseException):
    def main():
        raise err
    return main


@pytest.fixture(autouse=True)
def _no_debug(monkeypatch):
    monkeypatch.delenv(DEBUG_ENV, raising=False)


@pytest.mark.parametrize('err', [
    UsageError('--sparsity needs a sparse backbone'),
    FileNotFoundError('config file nope.py does not exist'),
    CheckpointError('x.pth is not a readable checkpoint: truncated'),
    DataFilesError('the annotation file a.json has no categories named [\'disk\']'),
    SparsityError('sparsity ratio 1.5 of stage 0 is outside [0, 1)'),
])
def test_user_errors_end_with_one_line(err):
    with pytest.raises(SystemExit) as exit_:
        run_tool(failing(err))
    assert exit_.value.code == f'error: {err}'  # printed to stderr, exit status 1


def test_other_errors_keep_their_traceback():
    with pytest.raises(ZeroDivisionError):
        run_tool(failing(ZeroDivisionError('a bug')))
    with pytest.raises(ValueError):  # no catch-all: a plain ValueError is not a user error
        run_tool(failing(ValueError('a bug')))
    assert not {Exception, ValueError, OSError, KeyError} & set(USER_ERRORS)


def test_a_tool_adds_the_errors_of_its_layers_and_their_hints():
    with pytest.raises(SystemExit, match='^error: not for this model$'):
        run_tool(failing(ToolLayerError('not for this model')), (ToolLayerError, ))
    with pytest.raises(SystemExit, match='^error: no SAA; or pass --allow-non-saa$'):
        run_tool(failing(ToolLayerError('no SAA')),
                 hints={ToolLayerError: 'or pass --allow-non-saa'})


def test_messages_become_one_line():
    assert error_line(RuntimeError('Error(s) in loading state_dict:\n\tMissing key(s): a, b\n')) \
        == 'Error(s) in loading state_dict: Missing key(s): a, b'
    try:
        open('/nonexistent/file.json')
    except FileNotFoundError as err:
        assert error_line(err) == '/nonexistent/file.json: No such file or directory'
    assert error_line(UsageError()) == 'UsageError'


def test_debug_flag_and_variable_show_the_traceback(monkeypatch):
    parser = argparse.ArgumentParser()
    add_debug_arg(parser)
    assert not parser.parse_args([]).debug and not debugging()
    with pytest.raises(UsageError):
        monkeypatch.setenv(DEBUG_ENV, '1')
        run_tool(failing(UsageError('bad')))
    monkeypatch.setenv(DEBUG_ENV, '0')
    assert not debugging()
    assert parser.parse_args(['--debug']).debug and debugging()
    with pytest.raises(UsageError):
        run_tool(failing(UsageError('bad')))
