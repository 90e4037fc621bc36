"""Command-line options every runner-based tool shares (OpenMMLab conventions)."""
import argparse
import os
import sys
from typing import Callable, Optional, Sequence

from mmengine.config import DictAction

from ..checkpoint_loading import CheckpointError
from ..fileio import dump_json
from ..sparsity import SparsityError

# bad input whose message says all: a tool reports it in one line, without a traceback
USER_ERRORS = (CheckpointError, SparsityError)


def add_runner_args(parser: argparse.ArgumentParser, cfg_example: str) -> None:
    """``--cfg-options``, ``--launcher`` and ``--local_rank``."""
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help=f'override config entries, e.g. {cfg_example}')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def add_onnx_check_args(parser: argparse.ArgumentParser) -> None:
    """Options of the ONNX Runtime checks (tools/deployment)."""
    parser.add_argument('--threads', type=int, help='ONNX Runtime threads (default: its own)')
    parser.add_argument('--warmup', type=int, default=3, help='untimed rounds')
    parser.add_argument('--runs', type=int, default=20, help='timed rounds')
    parser.add_argument('--report', help='write the checks and latencies as JSON here')


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


def run_tool(main: Callable[[], object], user_errors: tuple = ()) -> None:
    """Run a tool's ``main``; bad input (:data:`USER_ERRORS` and ``user_errors``) ends it with
    one line, exit 1."""
    try:
        main()
    except USER_ERRORS + tuple(user_errors) as err:
        sys.exit(f'error: {err}')
