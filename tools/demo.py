"""The SparseViT pipeline on built-in demo data: dense training, SAA, search, fine-tuning.

    python tools/demo.py [--work-dir work_dirs/demo] [--data-root data/demo_coco] [--quick]
                         [--ablations]

``--quick`` shrinks every step to a smoke test (its time is not recorded); ``--ablations``
adds a random search with the evolution's budget and plots both.
"""
import argparse

from sparsevit.demo.pipeline import DemoPlan, run_demo
from sparsevit.utils.cli import add_debug_arg, run_tool


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--work-dir', default=DemoPlan.work_dir)
    parser.add_argument('--data-root', default=DemoPlan.data_root)
    parser.add_argument('--quick', action='store_true', help='tiny sizes (smoke test)')
    parser.add_argument('--ablations', action='store_true',
                        help='also run a random search with the same budget and compare')
    add_debug_arg(parser)
    args = parser.parse_args(argv)
    plan = DemoPlan(work_dir=args.work_dir, data_root=args.data_root, ablations=args.ablations)
    return run_demo(plan.quick() if args.quick else plan)


if __name__ == '__main__':
    run_tool(main)
