"""The files users read carry no words of this project's own process: no temporary paths of
the machines that produced a figure, no issue names."""
import re
import subprocess

import pytest

from .helpers import REPO

PROCESS_WORDS = re.compile(r'/tmp/|\bissues? ["#\d]|\(issue\b', re.IGNORECASE)


def user_files() -> list[str]:
    """READMEs, docs, benchmark pages, configs and the model-zoo metafile."""
    listed = subprocess.run(['git', 'ls-files'], cwd=REPO, capture_output=True, text=True,
                            check=True).stdout.split()
    return [name for name in listed
            if name.endswith('README.md') or name.startswith(('docs/', 'configs/'))
            or (name.startswith('benchmarks/') and name.endswith('.md'))
            or name.endswith('metafile.yml')]


@pytest.mark.parametrize('name', user_files())
def test_no_words_of_the_process(name):
    text = (REPO / name).read_text(errors='replace')
    found = [m.group(0) for m in PROCESS_WORDS.finditer(text)]
    assert not found, f'{name} says {found}'


def test_the_check_sees_them():
    assert PROCESS_WORDS.findall('run in /tmp/s17/work; Targets (issue "Foundation")') == [
        '/tmp/', '(issue']
    assert not PROCESS_WORDS.search('a GitHub issue tracker; tissues 3')
