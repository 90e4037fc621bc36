"""Backbone latency of sparsity configurations against mmdet's dense SwinTransformer.

Follows docs/method.md, section 6: backbone only, random input, eval and inference
mode, warm-up rounds, then timed rounds; statistic = mean of the middle half.
mmdet's dense ``SwinTransformer`` (same weights) and every configuration are
timed round-robin in the same run, so the ratios share the machine's state.

Example (the CPU protocol of benchmarks/latency.md)::

    python tools/analysis/benchmark_latency.py --size 672 672 --batch 1 --threads 2
"""
import argparse
import json
import os
import platform

import torch
from mmdet.models.backbones import SwinTransformer
from mmengine.config import Config

from sparsevit import SparseSwinTransformer
from sparsevit.analysis import backbone_flops, measure_interleaved
from sparsevit.fileio import dump_json
from sparsevit.presets import REFERENCE_CONFIGS, SWIN_ARCHS, uniform
from sparsevit.utils import ProgressLine

DTYPES = {'fp32': torch.float32, 'fp16': torch.float16, 'bf16': torch.bfloat16}
DEFAULT_CONFIGS = ['dense', 'uniform-0.3', 'uniform-0.5', 'uniform-0.6', 'uniform-0.8',
                   'searched-0.6']


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    source = parser.add_mutually_exclusive_group()
    source.add_argument('--arch', choices=sorted(SWIN_ARCHS), default='swin-t',
                        help='backbone architecture (default: swin-t)')
    source.add_argument('--config', help='take model.backbone from this OpenMMLab config')
    parser.add_argument('--size', type=int, nargs=2, default=(672, 672), metavar=('H', 'W'))
    parser.add_argument('--batch', type=int, default=1,
                        help='images per forward (6 for one six-camera sample)')
    parser.add_argument('--device', default='cpu', help="'cpu' or 'cuda[:N]'")
    parser.add_argument('--dtype', choices=sorted(DTYPES), default='fp32')
    parser.add_argument('--threads', type=int, help='torch CPU threads (default: torch default)')
    parser.add_argument('--warmup', type=int, default=3, help='untimed rounds')
    parser.add_argument('--runs', type=int, default=20, help='timed rounds')
    parser.add_argument(
        '--sparsity', action='append', metavar='NAME[=JSON]',
        help='a configuration to time: dense, uniform-R, searched-0.3/0.6/0.7 (Swin-T), or '
        'NAME=[0.6,0,[0.2,0.2,0.4,0.4,0.5,0.5],0]; repeatable '
        f'(default: {" ".join(DEFAULT_CONFIGS)})')
    parser.add_argument('--out', help='write the results as JSON here')
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args(argv)


def resolve_sparsity(spec: str, num_stages: int):
    """``NAME`` of a preset or ``NAME=JSON`` -> (name, configuration)."""
    if '=' in spec:
        name, text = spec.split('=', 1)
        try:
            return name, json.loads(text)
        except json.JSONDecodeError as err:
            raise SystemExit(f'--sparsity {spec}: not valid JSON ({err})')
    if spec == 'dense':
        return spec, uniform(0.0, num_stages)
    if spec.startswith('uniform-'):
        try:
            return spec, uniform(float(spec[len('uniform-'):]), num_stages)
        except ValueError:
            raise SystemExit(f'--sparsity {spec}: expected uniform-<ratio>, e.g. uniform-0.6')
    if spec in REFERENCE_CONFIGS:
        return spec, REFERENCE_CONFIGS[spec]
    raise SystemExit(f'--sparsity {spec}: unknown preset; use dense, uniform-<ratio>, '
                     f'{", ".join(REFERENCE_CONFIGS)} or NAME=JSON')


def cpu_name() -> str:
    """The processor model as Linux reports it, else the machine type."""
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return f'{line.split(":", 1)[1].strip()}, {os.cpu_count()} cores'
    except OSError:
        pass
    return platform.processor() or platform.machine()


def backbone_kwargs(args: argparse.Namespace) -> dict:
    if args.config is None:
        return dict(SWIN_ARCHS[args.arch])
    cfg = Config.fromfile(args.config).model
    backbone = cfg.get('img_backbone', cfg.get('backbone'))
    if backbone is None or 'Swin' not in str(backbone.get('type')):
        raise SystemExit(f'{args.config}: model has no Swin backbone (found {backbone})')
    return {k: v for k, v in backbone.to_dict().items()
            if k not in ('type', 'sparsity', 'init_cfg', 'pretrained', 'with_cp')}


def build_pair(kwargs: dict, device: torch.device, dtype: torch.dtype):
    """mmdet's dense SwinTransformer and a SparseSwinTransformer with the same weights."""
    dense = SwinTransformer(**kwargs)
    dense.init_weights()
    sparse = SparseSwinTransformer(**kwargs)
    sparse.load_state_dict(dense.state_dict())
    for model in (dense, sparse):
        model.to(device=device, dtype=dtype).eval()
    return dense, sparse


def main(argv=None) -> dict:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    device, dtype = torch.device(args.device), DTYPES[args.dtype]
    kwargs = backbone_kwargs(args)
    dense, sparse = build_pair(kwargs, device, dtype)
    specs = args.sparsity or DEFAULT_CONFIGS
    specs = specs if 'dense' in specs else ['dense', *specs]  # our own dense path, always
    configs = dict(resolve_sparsity(s, len(sparse.depths)) for s in specs)
    for name, config in configs.items():
        sparse.sparsity = config  # validates now, before any timing
    image = torch.randn(args.batch, 3, *args.size, device=device, dtype=dtype)

    def run_sparse(config):
        def call():
            sparse.sparsity = config
            return sparse(image)
        return call

    calls = {'mmdet dense': lambda: dense(image)}
    calls.update({name: run_sparse(config) for name, config in configs.items()})
    device_name = torch.cuda.get_device_name(device) if device.type == 'cuda' else cpu_name()
    protocol = dict(device=f'{device.type} ({device_name})', dtype=args.dtype, batch=args.batch,
                    resolution=list(args.size), threads=torch.get_num_threads(),
                    warmup=args.warmup, runs=args.runs, torch=torch.__version__,
                    backbone=args.config or args.arch, statistic='mean of the middle half (ms)')
    print('protocol: ' + ', '.join(f'{k}={v}' for k, v in protocol.items()), flush=True)

    line = ProgressLine()
    timings = measure_interleaved(calls, device, args.warmup, args.runs,
                                  lambda done, total: line.update(f'round {done}/{total}'))
    line.close(f'{args.warmup + args.runs} rounds done')
    base = timings['mmdet dense'].mean_ms
    sparse.sparsity = None
    dense_flops = backbone_flops(sparse, args.size)
    own_dense = timings['dense'].mean_ms
    rows = [dict(name='mmdet dense', sparsity=None, latency=timings['mmdet dense'].to_dict(),
                 ratio=1.0, ratio_to_own_dense=base / own_dense, ideal_ratio=1.0)]
    for name, config in configs.items():
        sparse.sparsity = config
        rows.append(dict(name=name, sparsity=sparse.sparsity, latency=timings[name].to_dict(),
                         ratio=timings[name].mean_ms / base,
                         ratio_to_own_dense=timings[name].mean_ms / own_dense,
                         ideal_ratio=backbone_flops(sparse, args.size) / dense_flops))

    print(f'\n{"configuration":<16} {"latency ms":>11} {"vs mmdet":>9} {"vs dense":>9} '
          f'{"ideal":>7}  sparsity')
    for row in rows:
        print(f'{row["name"]:<16} {row["latency"]["mean_ms"]:>11.2f} {row["ratio"]:>9.3f} '
              f'{row["ratio_to_own_dense"]:>9.3f} {row["ideal_ratio"]:>7.3f}  '
              f'{json.dumps(row["sparsity"])}')
    result = dict(protocol=protocol, results=rows)
    if args.out:
        dump_json(result, args.out)
        print(f'wrote {args.out}')
    return result


if __name__ == '__main__':
    main()
