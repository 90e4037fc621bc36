"""Backbone latency of sparsity configurations against mmdet's dense SwinTransformer.

Follows docs/method.md, section 6: backbone only, random input, eval and inference
mode, warm-up rounds, then timed rounds; statistic = mean of the middle half.
mmdet's dense ``SwinTransformer`` (same weights) and every configuration are
timed round-robin in the same run, so the ratios share the machine's state.

``--compile`` also times the backbone compiled with torch.compile (one graph per
configuration, compiled before the timing) beside eager mode, in the same run.

``--cuda-graph`` also times the backbone replayed from CUDA graphs (one graph per
configuration, captured before the timing) beside eager mode, in the same run.

``--profile N`` then profiles N forwards of each configuration with torch.profiler and
prints where the time goes, by operator category (matrix products, attention, norms,
copies and layout, selection and scoring, the rest).

``--parts N`` then times N forwards of each configuration part by part, round-robin, and
prints the fixed parts (patch embedding, layouts, output maps, patch merging), the window
scoring and the blocks, and each configuration's *proportional* latency: its fixed parts
plus the dense blocks in proportion to the windows it keeps, with free scoring (what it
would take if its blocks cost what the dense ones cost per window).

``--whole-model CONFIG [CHECKPOINT]`` times, in the same round-robin run, the
whole task model (data preprocessor, backbone, neck, heads, post-processing) on
samples of the config's test dataset at its test resolution, and its backbone on
the same input, and reports both ratios to the dense configuration.

``--allocator keep-freed`` (the default) has glibc's malloc reuse the memory the process
frees, so that no timing depends on what the process allocated before; ``default`` leaves
the allocator as the environment sets it (the setting is recorded in the protocol).

Examples (the CPU protocols of benchmarks/latency.md)::

    python tools/analysis/benchmark_latency.py --size 672 672 --batch 1 --threads 2
    python tools/analysis/benchmark_latency.py --compile --sparsity dense --sparsity uniform-0.6
    python tools/analysis/benchmark_latency.py --device cuda --cuda-graph --batch 8
    python tools/analysis/benchmark_latency.py --whole-model CONFIG CHECKPOINT --threads 2
    python tools/analysis/benchmark_latency.py --threads 2 --profile 10 \
        --sparsity dense --sparsity uniform-0.6 --sparsity uniform-0.8
    python tools/analysis/benchmark_latency.py --threads 2 --parts 10 \
        --sparsity dense --sparsity uniform-0.6 --sparsity uniform-0.8
"""
import argparse
import json
import time
from typing import Callable

import torch
from mmdet.models.backbones import SwinTransformer
from mmengine.config import Config

from sparsevit import (NoSparseBackboneError, SparseSwinTransformer, get_sparsity, set_sparsity,
                       sparse_backbones)
from sparsevit.analysis import DTYPES, backbone_flops, measure_interleaved, profile_categories
from sparsevit.analysis.allocator import allocator_settings, use_allocator
from sparsevit.analysis.op_profile import CATEGORIES, REST
from sparsevit.analysis.part_costs import kept_shares, mean_parts, part_costs, part_timing_call
from sparsevit.apis import SampleIndexError, dataset_batch, init_model
from sparsevit.deployment import (MAX_COMPILED_VARIANTS, CudaGraphBackbone, DeploymentError,
                                  compile_backbone)
from sparsevit.latency_tables.runtimes import device_name
from sparsevit.presets import SWIN_ARCHS, resolve_sparsity
from sparsevit.utils import ProgressLine, run_tool, write_report
from sparsevit.utils.cli import UsageError, add_allocator_arg, add_debug_arg, chosen_allocator

DEFAULT_CONFIGS = ['dense', 'uniform-0.3', 'uniform-0.5', 'uniform-0.6', 'uniform-0.8',
                   'searched-0.6']


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    source = parser.add_mutually_exclusive_group()
    source.add_argument('--arch', choices=sorted(SWIN_ARCHS), default='swin-t',
                        help='backbone architecture (default: swin-t)')
    source.add_argument('--config', help='take model.backbone from this OpenMMLab config')
    source.add_argument('--whole-model', nargs='+', metavar='CONFIG [CHECKPOINT]',
                        help='time the whole task model of CONFIG (weights of CHECKPOINT, '
                        'else random) beside its backbone, on its test data')
    parser.add_argument('--sample-index', type=int, default=0,
                        help='--whole-model: first test sample (--batch samples are used)')
    parser.add_argument('--size', type=int, nargs=2, default=(672, 672), metavar=('H', 'W'))
    parser.add_argument('--batch', type=int, default=1,
                        help='images per forward (6 for one six-camera sample); with '
                        '--whole-model, test samples per forward')
    parser.add_argument('--device', default='cpu', help="'cpu' or 'cuda[:N]'")
    parser.add_argument('--dtype', choices=sorted(DTYPES), default='fp32',
                        help='fp16 and bf16 run fp32 weights under torch.autocast')
    parser.add_argument('--threads', type=int, help='torch CPU threads (default: torch default)')
    parser.add_argument('--warmup', type=int, default=3, help='untimed rounds')
    parser.add_argument('--runs', type=int, default=20, help='timed rounds')
    parser.add_argument(
        '--sparsity', action='append', metavar='NAME[=JSON]',
        help='a configuration to time: dense, uniform-R, searched-0.3/0.6/0.7 (Swin-T), or '
        'NAME=[0.6,0,[0.2,0.2,0.4,0.4,0.5,0.5],0]; repeatable '
        f'(default: {" ".join(DEFAULT_CONFIGS)})')
    parser.add_argument('--compile', action='store_true',
                        help='also time each configuration compiled with torch.compile '
                        f'(backbone only; at most {MAX_COMPILED_VARIANTS} configurations)')
    parser.add_argument('--cuda-graph', action='store_true',
                        help='also time each configuration replayed from a CUDA graph, captured '
                        'once per configuration before the timing (backbone only; needs a CUDA '
                        '--device)')
    parser.add_argument('--profile', type=int, metavar='N',
                        help='after the timing, profile N forwards of each configuration and '
                        'print the time per operator category (backbone only)')
    parser.add_argument('--parts', type=int, metavar='N',
                        help='after the timing, time N forwards of each configuration part by '
                        'part and print the fixed parts, scoring, blocks and the proportional '
                        'latency of each (backbone only)')
    parser.add_argument('--out', help='write the results as JSON here')
    parser.add_argument('--seed', type=int, default=0)
    add_allocator_arg(parser)
    add_debug_arg(parser)
    args = parser.parse_args(argv)
    if args.whole_model is not None and len(args.whole_model) > 2:
        parser.error('--whole-model takes CONFIG and an optional CHECKPOINT')
    if args.compile and args.whole_model is not None:
        parser.error('--compile times the backbone; it does not go with --whole-model')
    if args.cuda_graph and args.whole_model is not None:
        parser.error('--cuda-graph times the backbone; it does not go with --whole-model')
    if args.profile is not None and (args.profile < 1 or args.whole_model is not None):
        parser.error('--profile takes N >= 1 forwards and profiles the backbone; it does not '
                     'go with --whole-model')
    if args.parts is not None and (args.parts < 1 or args.whole_model is not None):
        parser.error('--parts takes N >= 1 forwards and times the backbone; it does not go '
                     'with --whole-model')
    return args


def backbone_kwargs(args: argparse.Namespace) -> dict:
    if args.config is None:
        return dict(SWIN_ARCHS[args.arch])
    cfg = Config.fromfile(args.config).model
    backbone = cfg.get('img_backbone', cfg.get('backbone'))
    if backbone is None or 'Swin' not in str(backbone.get('type')):
        raise UsageError(f'{args.config}: model has no Swin backbone (found {backbone})')
    return {k: v for k, v in backbone.to_dict().items()
            if k not in ('type', 'sparsity', 'init_cfg', 'pretrained', 'with_cp')}


def build_pair(kwargs: dict, device: torch.device):
    """mmdet's dense SwinTransformer and a SparseSwinTransformer with the same fp32 weights."""
    dense = SwinTransformer(**kwargs)
    dense.init_weights()
    sparse = SparseSwinTransformer(**kwargs)
    sparse.load_state_dict(dense.state_dict())
    for model in (dense, sparse):
        model.to(device=device).eval()
    return dense, sparse


def in_precision(call: Callable[[], object], dtype: str, device: torch.device):
    """``call`` run at ``dtype``: fp32 as it is; fp16 and bf16 under ``torch.autocast``.

    Autocast, as ``--amp`` trains and as mixed-precision inference runs, rather than
    casting the weights: mmdet's dense Swin adds its float32 shift mask to the attention
    and cannot run with half weights.
    """
    if dtype == 'fp32':
        return call

    def run():
        with torch.autocast(device.type, dtype=DTYPES[dtype]):
            return call()
    return run


def configurations(args: argparse.Namespace, backbone: SparseSwinTransformer) -> dict:
    """The named configurations to time, the dense one first; each validated on ``backbone``."""
    specs = args.sparsity or DEFAULT_CONFIGS
    specs = specs if 'dense' in specs else ['dense', *specs]  # our own dense path, always
    configs = dict(resolve_sparsity(s, len(backbone.depths)) for s in specs)
    for config in configs.values():
        backbone.sparsity = config  # validates now, before any timing
    backbone.sparsity = configs['dense']
    if any(ratio for stage in backbone.block_ratios for ratio in stage):
        raise UsageError("'dense' names this backbone at all ratios 0 (the reference of every "
                         'ratio): give your configuration another name')
    return configs


def time_round_robin(calls: dict, args: argparse.Namespace, device: torch.device,
                     protocol: dict) -> dict:
    """Print the protocol, time ``calls`` round-robin with a progress line; their results."""
    print('protocol: ' + ', '.join(f'{k}={v}' for k, v in protocol.items()), flush=True)
    line = ProgressLine()
    timings = measure_interleaved(calls, device, args.warmup, args.runs,
                                  lambda done, total: line.update(f'round {done}/{total}'))
    line.close(f'{args.warmup + args.runs} rounds done')
    return timings


def describe(args: argparse.Namespace, device: torch.device, **fields) -> dict:
    """The protocol of a run: device, dtype, batch, threads, rounds and ``fields``."""
    return dict(device=f'{device.type} ({device_name(device)})', dtype=args.dtype,
                batch=args.batch, threads=torch.get_num_threads(), warmup=args.warmup,
                runs=args.runs,
                torch=torch.__version__, allocator=allocator_settings(), **fields,
                statistic='mean of the middle half (ms)')


def backbone_benchmark(args: argparse.Namespace, device: torch.device) -> dict:
    """Backbone configurations against mmdet's dense SwinTransformer on random input."""
    if args.cuda_graph:
        check_cuda_graph_device(device)
    dense, sparse = build_pair(backbone_kwargs(args), device)
    configs = configurations(args, sparse)
    image = torch.randn(args.batch, 3, *args.size, device=device)

    def run_sparse(config):
        def call():
            sparse.sparsity = config
            return sparse(image)
        return in_precision(call, args.dtype, device)

    calls = {'mmdet dense': in_precision(lambda: dense(image), args.dtype, device)}
    calls.update({name: run_sparse(config) for name, config in configs.items()})
    if args.compile:
        calls.update(compiled_calls(sparse, configs, image, args.dtype))
    if args.cuda_graph:
        calls.update(cuda_graph_calls(sparse, configs, image, args.dtype))
    protocol = describe(args, device, resolution=list(args.size),
                        backbone=args.config or args.arch, compiled=args.compile,
                        cuda_graph=args.cuda_graph)
    timings = time_round_robin(calls, args, device, protocol)
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
        if args.compile:
            compiled = timings[f'{name} compiled']
            rows[-1].update(compiled=compiled.to_dict(),
                            compiled_ratio_to_own_dense=compiled.mean_ms
                            / timings['dense compiled'].mean_ms,
                            compiled_vs_eager=compiled.mean_ms / timings[name].mean_ms)
        if args.cuda_graph:
            graphed = timings[f'{name} cuda graph']
            rows[-1].update(cuda_graph=graphed.to_dict(),
                            cuda_graph_vs_eager=graphed.mean_ms / timings[name].mean_ms)
    print_backbone_table(rows, args.compile)
    if args.cuda_graph:
        print_cuda_graph_table(rows)
    if args.profile:
        add_profiles(rows, calls, args.profile, device)
    if args.parts:
        protocol['parts'] = args.parts
        add_part_costs(rows, sparse, configs, image, args, device)
    return dict(protocol=protocol, results=rows)


def add_profiles(rows: list[dict], calls: dict, forwards: int, device: torch.device) -> None:
    """Profile ``forwards`` forwards of each row's eager call; print and add the time per
    operator category (ms per forward) to the rows."""
    columns = [*CATEGORIES, REST]
    print(f'\nprofile: operator self time per forward (ms), {forwards} profiled forwards each')
    print(f'{"configuration":<16} {"total":>8} ' + ' '.join(f'{c:>12.12}' for c in columns))
    for row in rows:
        profiled = profile_categories(calls[row['name']], forwards, device)
        row['profile'] = profiled.to_dict()
        print(f'{row["name"]:<16} {profiled.total_ms:>8.1f} '
              + ' '.join(f'{profiled.categories[c]:>12.1f}' for c in columns), flush=True)


def add_part_costs(rows: list[dict], backbone: SparseSwinTransformer, configs: dict,
                   image: torch.Tensor, args: argparse.Namespace, device: torch.device) -> None:
    """Time ``args.parts`` forwards of each configuration part by part, round-robin after one
    untimed round; print and add each one's :class:`PartCosts` (ms per forward) to its row,
    with the kept shares it was scaled by."""
    warmup = 1
    forwards: dict[str, list] = {name: [] for name in configs}
    block_ratios = {}
    for name, config in configs.items():
        backbone.sparsity = config
        block_ratios[name] = backbone.block_ratios
    calls = {name: in_precision(part_timing_call(backbone, image, ratios, forwards[name]),
                                args.dtype, device)
             for name, ratios in block_ratios.items()}
    measure_interleaved(calls, device, warmup=warmup, runs=args.parts)
    parts = {name: mean_parts(timed[warmup:]) for name, timed in forwards.items()}
    dense_total = sum(parts['dense'].values())
    print(f'\nparts: ms per forward, {args.parts} forwards each timed part by part; '
          'proportional: the fixed parts, and the dense blocks in proportion to the windows kept')
    print(f'{"configuration":<16} {"total":>8} {"fixed":>8} {"scoring":>8} {"blocks":>8} '
          f'{"in prop.":>9} {"prop. total":>12} {"vs dense":>9} {"prop. vs dense":>15}')
    for row in rows:
        if row['name'] not in parts:
            continue
        shares = kept_shares(backbone, image, block_ratios[row['name']])
        costs = part_costs(parts[row['name']], parts['dense'], shares)
        row['parts'] = dict(costs.to_dict(), ms=parts[row['name']], kept_shares=shares,
                            forwards=len(forwards[row['name']]) - warmup,
                            ratio_to_own_dense=costs.total_ms / dense_total,
                            proportional_ratio_to_own_dense=costs.proportional_ms / dense_total)
        print(f'{row["name"]:<16} {costs.total_ms:>8.1f} {costs.fixed_ms:>8.1f} '
              f'{costs.scoring_ms:>8.1f} {costs.blocks_ms:>8.1f} '
              f'{costs.proportional_blocks_ms:>9.1f} {costs.proportional_ms:>12.1f} '
              f'{row["parts"]["ratio_to_own_dense"]:>9.3f} '
              f'{row["parts"]["proportional_ratio_to_own_dense"]:>15.3f}', flush=True)


def _prepared_calls(forward: Callable, backbone: SparseSwinTransformer, configs: dict,
                    image: torch.Tensor, dtype: str, suffix: str, preparation: str) -> dict:
    """``'<name> <suffix>'`` calls of ``forward`` with ``backbone`` at each configuration, each
    run once here (with a line of how long its ``preparation`` took), before any timing."""

    def run(config):
        def call():
            backbone.sparsity = config
            return forward(image)
        return in_precision(call, dtype, image.device)

    calls = {f'{name} {suffix}': run(config) for name, config in configs.items()}
    for name, call in calls.items():
        start = time.perf_counter()
        with torch.inference_mode():
            call()
        if image.is_cuda:
            torch.cuda.synchronize(image.device)
        print(f'{name}: {time.perf_counter() - start:.1f} s to {preparation}', flush=True)
    return calls


def compiled_calls(backbone: SparseSwinTransformer, configs: dict, image: torch.Tensor,
                   dtype: str) -> dict:
    """``'<name> compiled'`` calls of ``backbone`` under torch.compile, each configuration
    compiled once here, before any timing."""
    if len(configs) > MAX_COMPILED_VARIANTS:
        raise UsageError(f'--compile times at most {MAX_COMPILED_VARIANTS} configurations '
                         f"(torch.compile's recompile limit), got {len(configs)}")
    return _prepared_calls(compile_backbone(backbone), backbone, configs, image, dtype,
                           'compiled', 'compile')


def check_cuda_graph_device(device: torch.device) -> None:
    """Stop with one line unless ``device`` is a CUDA device this machine has."""
    if device.type != 'cuda':
        raise SystemExit(f'--cuda-graph needs a CUDA device (--device cuda), got {device}')
    if not torch.cuda.is_available():
        raise SystemExit('--cuda-graph needs a CUDA device, and torch.cuda.is_available() is False')


def cuda_graph_calls(backbone: SparseSwinTransformer, configs: dict, image: torch.Tensor,
                     dtype: str) -> dict:
    """``'<name> cuda graph'`` calls replaying one CUDA graph of ``backbone`` per configuration,
    each captured here, before any timing."""
    graphed = CudaGraphBackbone(backbone, max_graphs=len(configs))
    return _prepared_calls(graphed, backbone, configs, image, dtype, 'cuda graph', 'capture')


def print_cuda_graph_table(rows: list[dict]) -> None:
    print(f'\n{"configuration":<16} {"eager ms":>11} {"graph ms":>11} {"vs eager":>9}')
    for row in rows:
        if 'cuda_graph' in row:
            print(f'{row["name"]:<16} {row["latency"]["mean_ms"]:>11.2f} '
                  f'{row["cuda_graph"]["mean_ms"]:>11.2f} {row["cuda_graph_vs_eager"]:>9.3f}')


def print_backbone_table(rows: list[dict], compiled: bool) -> None:
    header = (f'\n{"configuration":<16} {"latency ms":>11} {"vs mmdet":>9} {"vs dense":>9} '
              f'{"ideal":>7}')
    if compiled:
        header += f' {"compiled ms":>12} {"vs dense":>9} {"vs eager":>9}'
    print(header + '  sparsity')
    for row in rows:
        line = (f'{row["name"]:<16} {row["latency"]["mean_ms"]:>11.2f} {row["ratio"]:>9.3f} '
                f'{row["ratio_to_own_dense"]:>9.3f} {row["ideal_ratio"]:>7.3f}')
        if compiled:
            line += (f' {row["compiled"]["mean_ms"]:>12.2f} '
                     f'{row["compiled_ratio_to_own_dense"]:>9.3f} '
                     f'{row["compiled_vs_eager"]:>9.3f}' if 'compiled' in row else ' ' * 32)
        print(f'{line}  {json.dumps(row["sparsity"])}')


def whole_model_benchmark(args: argparse.Namespace, device: torch.device) -> dict:
    """The whole task model and its backbone, per configuration, on the config's test data."""
    config_file, checkpoint = (args.whole_model + [None])[:2]
    if checkpoint is None:
        print('warning: no checkpoint: random weights; heads whose work depends on their '
              'outputs (proposals, detections, NMS) may not cost what a trained model\'s do',
              flush=True)
    model = init_model(config_file, checkpoint, device=str(device)).eval()
    backbone = sparse_backbones(model)[0]
    configs = configurations(args, backbone)
    batch = dataset_batch(model, range(args.sample_index, args.sample_index + args.batch))
    with torch.no_grad():
        inputs = model.data_preprocessor(batch, False)['inputs']
    images = inputs if torch.is_tensor(inputs) else inputs['imgs'].flatten(0, 1)

    def with_config(config, run):
        def call():
            set_sparsity(model, config)
            return run()
        return in_precision(call, args.dtype, device)

    calls = {}
    for name, config in configs.items():
        calls[f'backbone {name}'] = with_config(config, lambda: backbone(images))
        calls[f'model {name}'] = with_config(config, lambda: model.test_step(batch))
    protocol = describe(args, device, input=list(images.shape), model=config_file,
                        checkpoint=checkpoint or 'random weights',
                        samples=f'test samples {args.sample_index}..'
                        f'{args.sample_index + args.batch - 1}')
    timings = time_round_robin(calls, args, device, protocol)
    backbone.sparsity = None
    size = images.shape[-2:]
    dense_flops = backbone_flops(backbone, size)
    rows = []
    for name, config in configs.items():
        set_sparsity(model, config)
        part, whole = timings[f'backbone {name}'], timings[f'model {name}']
        rows.append(dict(name=name, sparsity=get_sparsity(model), backbone=part.to_dict(),
                         model=whole.to_dict(),
                         backbone_ratio=part.mean_ms / timings['backbone dense'].mean_ms,
                         model_ratio=whole.mean_ms / timings['model dense'].mean_ms,
                         backbone_share=part.mean_ms / whole.mean_ms,
                         ideal_ratio=backbone_flops(backbone, size) / dense_flops))
    print(f'\n{"configuration":<16} {"backbone ms":>11} {"vs dense":>9} {"model ms":>10} '
          f'{"vs dense":>9} {"backbone share":>15} {"ideal":>7}  sparsity')
    for row in rows:
        print(f'{row["name"]:<16} {row["backbone"]["mean_ms"]:>11.1f} '
              f'{row["backbone_ratio"]:>9.3f} {row["model"]["mean_ms"]:>10.1f} '
              f'{row["model_ratio"]:>9.3f} {row["backbone_share"]:>15.2f} '
              f'{row["ideal_ratio"]:>7.3f}  {json.dumps(row["sparsity"])}')
    return dict(protocol=protocol, results=rows)


def main(argv=None) -> dict:
    args = parse_args(argv)
    use_allocator(chosen_allocator(args))
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    device = torch.device(args.device)
    if args.whole_model is None:
        result = backbone_benchmark(args, device)
    else:
        result = whole_model_benchmark(args, device)
    write_report(result, args.out)
    return result


if __name__ == '__main__':
    run_tool(main, (DeploymentError, NoSparseBackboneError),
             {SampleIndexError: 'choose it with --sample-index'})
