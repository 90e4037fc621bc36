"""tools/gpu/mmcv_cxx.sh, mmcv's C++ compiler: what it hands the real compiler, run with a
stand-in compiler that records its calls."""
import os
import shlex
import subprocess
from pathlib import Path

import pytest

from ..helpers import REPO

WRAPPER = REPO / 'tools' / 'gpu' / 'mmcv_cxx.sh'
# a compile as torch's ninja rule writes it: -MMD -MF DEPS CFLAGS -c SOURCE -o OBJECT POSTFLAGS
COMPILE = ['-MMD', '-MF', 'nms.o.d', '-Icommon', '-O3', '-g', '-c', 'pytorch/nms.cpp', '-o',
           'nms.o', '-DTORCH_EXTENSION_NAME=_ext', '-std=c++20']
FLAGS = ['-Icommon', '-O3', '-g', '-DTORCH_EXTENSION_NAME=_ext', '-std=c++20', '-g0']


@pytest.fixture
def compiler(tmp_path):
    """A stand-in compiler that logs each call's arguments, writes its -o file and fails
    precompiling when FAIL_PCH is set; the header to precompile; the log."""
    log = tmp_path / 'calls.txt'
    fake = tmp_path / 'fake-c++'
    fake.write_text(f'''#!/usr/bin/env bash
echo "$*" >> {log}
out=
while (( $# )); do [[ $1 == -o ]] && out=$2; shift; done
if [[ -n "${{FAIL_PCH:-}}" && $out == *.gch* ]]; then exit 1; fi
[[ -z $out ]] || echo object > "$out"
''')
    fake.chmod(0o755)
    header = tmp_path / 'common' / 'pytorch_cpp_helper.hpp'
    header.parent.mkdir()
    header.write_text('#pragma once\n')
    return fake, header, log


def run(compiler, args, **env):
    fake, header, log = compiler
    done = subprocess.run(['bash', str(WRAPPER), *args], cwd=header.parent.parent,
                          capture_output=True, text=True,
                          env=dict(os.environ, PCH_CXX=str(fake), PCH_HEADER=str(header), **env))
    calls = [shlex.split(line) for line in log.read_text().splitlines()] if log.exists() else []
    log.unlink(missing_ok=True)
    return done, calls


def test_first_compile_precompiles_the_header_with_its_flags_then_compiles(compiler):
    _, header, _ = compiler
    done, calls = run(compiler, COMPILE)
    assert done.returncode == 0, done.stderr
    (pch, ) = list(Path(f'{header}.gch').iterdir())
    assert calls == [[*FLAGS, '-x', 'c++-header', str(header), '-o', calls[0][-1]],
                     [*COMPILE, '-g0']]
    assert pch.suffix == '.gch' and not calls[0][-1].startswith(str(pch.parent) + '/')

    done, calls = run(compiler, COMPILE)  # the next source with the same flags: no precompile
    assert calls == [[*COMPILE, '-g0']]
    other = [flag if flag != '-O3' else '-O2' for flag in COMPILE]
    _, calls = run(compiler, other)  # other flags: a header of their own
    assert len(calls) == 2 and len(list(Path(f'{header}.gch').iterdir())) == 2


def test_calls_that_compile_nothing_pass_unchanged(compiler):
    for args in (['-v'], ['--version'], ['-shared', 'a.o', '-o', '_ext.so']):
        done, calls = run(compiler, args)
        assert done.returncode == 0 and calls == [args]


def test_failed_precompile_compiles_without_it_once_warned(compiler):
    _, header, _ = compiler
    done, calls = run(compiler, COMPILE, FAIL_PCH='1')
    assert done.returncode == 0 and calls[-1] == [*COMPILE, '-g0']
    assert 'could not precompile' in done.stderr
    assert not list(Path(f'{header}.gch').iterdir())
    done, calls = run(compiler, COMPILE, FAIL_PCH='1')  # not tried again
    assert calls == [[*COMPILE, '-g0']] and not done.stderr
