"""Command-line options every runner-based tool shares (OpenMMLab conventions)."""
import argparse
import os
from typing import Optional, Sequence

from mmengine.config import DictAction


def add_runner_args(parser: argparse.ArgumentParser, cfg_example: str) -> None:
    """``--cfg-options``, ``--launcher`` and ``--local_rank``."""
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help=f'override config entries, e.g. {cfg_example}')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def parse_runner_args(parser: argparse.ArgumentParser,
                      argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parse, and export LOCAL_RANK for launchers that pass it as an option."""
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args
