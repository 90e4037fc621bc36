"""What the tools share: command-line options (OpenMMLab conventions), reports, and how a
user's mistake ends a tool: one ``error: ...`` line on stderr, exit status 1, no traceback
(``--debug`` or ``SPARSEVIT_DEBUG=1`` shows it)."""
import argparse
import os
import sys
from typing import Callable, Mapping, Optional, Sequence

from mmengine.config import DictAction

from ..analysis.allocator import ALLOCATORS, DEFAULT_ALLOCATOR
from ..checkpoint_loading import CheckpointError
from ..datasets.file_checks import DataFilesError
from ..fileio import dump_json
from ..sparsity import SparsityError
from .config import ConfigError

DEBUG_ENV = 'SPARSEVIT_DEBUG'


class UsageError(ValueError):
    """Bad command-line input that a tool finds itself, beyond what argparse checks."""


# A user's mistakes whose message says all, for every tool: a file given that does not exist
# (config, checkpoint, data), a file that is not what it should be, a config of another codebase,
# an invalid sparsity. A tool
# adds the errors of the layers it drives (search, deployment) to run_tool; anything else is a
# bug and keeps its traceback.
USER_ERRORS = (UsageError, FileNotFoundError, CheckpointError, ConfigError, DataFilesError,
               SparsityError)


class _DebugAction(argparse.Action):
    """``--debug``: the same as ``SPARSEVIT_DEBUG=1`` (inherited by launched processes)."""

    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, dest, nargs=0, default=False, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        os.environ[DEBUG_ENV] = '1'
        setattr(namespace, self.dest, True)


def add_debug_arg(parser: argparse.ArgumentParser) -> None:
    """``--debug``: errors a user caused end with their traceback, not one line."""
    parser.add_argument('--debug', action=_DebugAction,
                        help=f'show the traceback of an error (also: {DEBUG_ENV}=1)')


def add_allocator_arg(parser: argparse.ArgumentParser, note: str = '') -> None:
    """``--allocator``: how a timing tool's process reuses the memory it frees (``note``
    ends its help)."""
    parser.add_argument(
        '--allocator', choices=ALLOCATORS,
        help="'keep-freed': glibc's malloc reuses the memory the process frees (repeatable, "
        "faster CPU timings); 'default': as the environment sets it (default: "
        f"{DEFAULT_ALLOCATOR}){note}")


def chosen_allocator(args: argparse.Namespace) -> str:
    """The ``--allocator`` given, or its default."""
    return args.allocator or DEFAULT_ALLOCATOR


def add_runner_args(parser: argparse.ArgumentParser, cfg_example: str) -> None:
    """``--cfg-options``, ``--launcher``, ``--local_rank`` and ``--debug``."""
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help=f'override config entries, e.g. {cfg_example}')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    add_debug_arg(parser)


def add_onnx_check_args(parser: argparse.ArgumentParser) -> None:
    """Options of the ONNX Runtime checks (tools/deployment), and ``--debug``."""
    parser.add_argument('--threads', type=int, help='ONNX Runtime threads (default: its own)')
    parser.add_argument('--warmup', type=int, default=3, help='untimed rounds')
    parser.add_argument('--runs', type=int, default=20, help='timed rounds')
    parser.add_argument('--report', help='write the checks and latencies as JSON here')
    add_debug_arg(parser)


def check_data_files_first(cfg) -> None:
    """Make a run check the files of its datasets before it starts (``DataFilesCheckHook``),
    also where the config does not list the hook: data that does not fit the config (an
    annotation file without its classes) then stops it with one line, not with an error deep
    in the evaluation at the end."""
    hooks = list(cfg.get('custom_hooks') or [])
    if not any(hook.get('type') == 'DataFilesCheckHook' for hook in hooks):
        cfg.custom_hooks = hooks + [dict(type='DataFilesCheckHook')]


def parse_runner_args(parser: argparse.ArgumentParser,
                      argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parse, and export LOCAL_RANK for launchers that pass it as an option."""
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def write_report(result: dict, path: Optional[str]) -> None:
    """Write a tool's ``result`` as JSON to ``path`` (atomically), if given, and say so."""
    if path:
        dump_json(result, path)
        print(f'wrote {path}')


def debugging() -> bool:
    """Whether errors keep their traceback: ``--debug`` or ``SPARSEVIT_DEBUG`` set (not 0)."""
    return os.environ.get(DEBUG_ENV, '').strip() not in ('', '0')


def error_line(err: BaseException) -> str:
    """The message of ``err`` on one line."""
    if isinstance(err, OSError) and err.strerror and err.filename:  # raised by open() & co.
        return f'{err.filename}: {err.strerror}'
    text = ' '.join(line.strip() for line in str(err).splitlines() if line.strip())
    return text or type(err).__name__


def run_tool(main: Callable[[], object], user_errors: tuple = (),
             hints: Optional[Mapping[type, str]] = None) -> None:
    """Run a tool's ``main``; a user's mistake ends it with one line on stderr and exit status 1.

    Args:
        main: the tool's entry point.
        user_errors: error types of the layers the tool drives that are a user's mistake,
            beside :data:`USER_ERRORS`.
        hints: what to do about an error of a type, in the tool's own words (its options),
            added to the library's message; these types are user errors as well.
    """
    hints = dict(hints or {})
    try:
        main()
    except USER_ERRORS + tuple(user_errors) + tuple(hints) as err:
        if debugging():
            raise
        hint = next((text for kind, text in hints.items() if isinstance(err, kind)), None)
        sys.exit(f'error: {error_line(err)}' + (f'; {hint}' if hint else ''))
