"""tools/gpu: the GPU machine's stacks agree with requirements/, and run_checks.sh's options."""
import re
import subprocess
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from ..helpers import REPO

STACKS = REPO / 'requirements' / 'stacks'
OPENMMLAB = ('mmengine', 'mmcv', 'mmdet', 'mmsegmentation', 'mmdet3d', 'lyft-dataset-sdk',
             'nuscenes-devkit')
RUN_CHECKS = REPO / 'tools' / 'gpu' / 'run_checks.sh'


def pins(path: Path) -> dict:
    """``{canonical name: (Requirement, inline comment)}`` of a requirements file."""
    found = {}
    for line in path.read_text().splitlines():
        text, _, comment = line.partition('#')
        if text.strip() and not text.strip().startswith('-'):
            req = Requirement(text.strip())
            found[canonicalize_name(req.name)] = (req, comment.strip())
    return found


def exact(req: Requirement) -> str:
    """The version of an exact ``NAME==VERSION`` pin."""
    (spec, ) = req.specifier
    assert spec.operator == '==', f'{req} is not an exact pin'
    return spec.version


def left_out(path: Path) -> set:
    """The names of the ``# left out: NAME ... (why)`` lines."""
    names = set()
    for match in re.finditer(r'^# left out: ([^(]*)\(', path.read_text(), re.M):
        names.update(canonicalize_name(n) for n in match.group(1).split())
    return names


@pytest.fixture(scope='module')
def stacks():
    return {name: pins(STACKS / f'{name}.txt')
            for name in ('pinned', 'gpu-twin', 'gpu-machine-base', 'gpu-wheelhouse')}


def test_twin_takes_the_openmmlab_versions_of_pinned_and_the_machines_base(stacks):
    twin = stacks['gpu-twin']
    assert (STACKS / 'gpu-twin.txt').read_text().startswith('# python: 3.12\n')
    for name in OPENMMLAB:
        assert str(twin[name][0].specifier) == str(stacks['pinned'][name][0].specifier), name
    base = stacks['gpu-machine-base']
    shared = set(twin) & set(base)
    assert {'torch', 'torchvision', 'numpy', 'onnx', 'onnxruntime'} <= shared
    for name in shared:
        assert exact(twin[name][0]) == exact(base[name][0]), name
    assert (exact(base['torch'][0]), exact(base['torchvision'][0]),
            exact(base['numpy'][0])) == ('2.11.0', '0.26.0', '2.5.2')


def test_wheelhouse_pins_are_exact_and_agree_with_the_twin(stacks):
    wheelhouse, twin = stacks['gpu-wheelhouse'], stacks['gpu-twin']
    for name in OPENMMLAB + ('pycocotools', 'openmim'):
        assert name in wheelhouse, f'{name} is missing from the wheelhouse'
    for name, (req, _) in wheelhouse.items():
        version = exact(req)
        if name in twin:
            assert twin[name][0].specifier.contains(version), (name, version)


def test_wheelhouse_takes_nothing_the_machine_has_without_saying_why(stacks):
    base, wheelhouse = stacks['gpu-machine-base'], stacks['gpu-wheelhouse']
    for name in set(base) & set(wheelhouse):
        assert wheelhouse[name][1], f'{name} is on the machine: its wheelhouse line must say why'
    assert not left_out(STACKS / 'gpu-wheelhouse.txt') & (set(base) | set(wheelhouse))


def test_every_requirement_is_on_the_machine_or_in_the_wheelhouse(stacks):
    """At a version inside the requirement's range, or left out with a reason; the 3D extra's
    numpy<2 (the devkit's) gives way to the stack's numpy, as in tools/bootstrap.sh."""
    have = {**stacks['gpu-machine-base'], **stacks['gpu-wheelhouse']}
    skipped = left_out(STACKS / 'gpu-wheelhouse.txt')
    for path in sorted((REPO / 'requirements').glob('*.txt')):
        for name, (req, _) in pins(path).items():
            if name in skipped:
                continue
            assert name in have, f'{path.name}: {name} is not on the machine nor in the wheelhouse'
            if (path.name, name) == ('3d.txt', 'numpy'):
                continue
            version = Version(exact(have[name][0]))
            assert req.specifier.contains(version, prereleases=True), (path.name, req, version)


def run_checks(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(['bash', str(RUN_CHECKS), *args], capture_output=True, text=True,
                          cwd=REPO)


def test_run_checks_help_and_plan():
    done = run_checks('--help')
    assert done.returncode == 0 and '--device cuda|cpu' in done.stdout
    plan = run_checks('--plan').stdout.splitlines()
    steps = [line.split()[0] for line in plan[1:-1]]
    assert steps == ['install', 'build', 'tests', 'benchmark', 'search']
    assert sum(int(line.split()[2]) for line in plan[1:-1]) <= 8 * 60  # the GPU estimates
    assert plan[-1].startswith('device: cuda; budget: 570 s')
    cpu = run_checks('--plan', '--device', 'cpu', '--steps', 'install,search').stdout
    assert [line.split()[0] for line in cpu.splitlines()[1:-1]] == ['install', 'search']
    assert 'budget: none' in cpu


@pytest.mark.parametrize('args, message', [
    (('--device', 'gpu'), "--device must be cuda or cpu, not 'gpu'"),
    (('--steps', 'install,lint'), "unknown step 'lint'"),
    (('--budget', '5m'), "--budget must be whole seconds, not '5m'"),
    (('--frobnicate', ), 'unknown option --frobnicate'),
])
def test_run_checks_refuses_bad_options_in_one_line(args, message):
    done = run_checks(*args, '--plan')
    assert done.returncode == 2 and message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize('script', sorted((REPO / 'tools' / 'gpu').glob('*.sh')),
                         ids=lambda p: p.name)
def test_gpu_scripts_parse(script):
    assert subprocess.run(['bash', '-n', str(script)], capture_output=True).returncode == 0
