"""Every file that the code and docs of the repository cite exists in it.

Checked: relative Markdown links, paths under the repository's top-level folders
(``docs/method.md``, ``configs/...``, ``tools/...``), bare ``NAME.md`` names and
``docs/method.md, section N`` references. Paths of other projects (``mmseg's
tools/...``) and patterns (``..._{41,34}ms.py``, ``finetune_<config>.py``) are not
citations of this repository.
"""
import functools
import re
import subprocess
from pathlib import Path

import pytest

from .helpers import REPO

TOP_FOLDERS = ('docs', 'benchmarks', 'configs', 'tools', 'tests', 'projects', 'requirements',
               '.ci')
REPO_PATH = re.compile(r'(?<![\w./:-])((?:%s)/[\w./-]*)' % '|'.join(map(re.escape, TOP_FOLDERS)))
MARKDOWN_LINK = re.compile(r'\]\(([^)\s]+)\)')
MD_NAME = re.compile(r'(?<![\w./-])([\w-]+\.md)\b')
SECTION = re.compile(r'docs/method\.md`?, section (\d+)')
OTHER_PROJECT = re.compile(r"(mm\w+|OpenMMLab|BEVDet|timm)\\?'s\s+`{0,2}$")
PATTERN_CHARS = '{<*['


def cited_files() -> list[Path]:
    """The repository's tracked text files, without the license text and this checker."""
    listed = subprocess.run(['git', 'ls-files'], cwd=REPO, capture_output=True, text=True,
                            check=True).stdout.split()
    skipped = ('LICENSE', 'tests/test_citations.py')
    suffixes = ('.py', '.md', '.sh', '.yml', '.yaml', '.cfg', '.txt', '')
    return [REPO / name for name in listed
            if name not in skipped and Path(name).suffix in suffixes]


@functools.lru_cache(maxsize=None)
def markdown_names() -> frozenset:
    """The names of the repository's Markdown files (read once: the tree holds environments)."""
    return frozenset(p.name for p in REPO.rglob('*.md') if '.venv' not in p.parts)


def repo_path_citations(text: str) -> list[str]:
    """Paths under the top-level folders, without patterns and other projects' paths."""
    found = []
    for match in REPO_PATH.finditer(text):
        path = match.group(1).rstrip('.')
        following = text[match.end():match.end() + 1]
        if '...' in path or (following and following in PATTERN_CHARS):
            continue
        if OTHER_PROJECT.search(text[max(0, match.start() - 30):match.start()]):
            continue
        found.append(path)
    return found


@pytest.mark.parametrize('path', cited_files(), ids=lambda p: str(p.relative_to(REPO)))
def test_cited_paths_exist(path):
    text = path.read_text(errors='replace')
    missing = [cited for cited in repo_path_citations(text) if not (REPO / cited).exists()]
    for target in MARKDOWN_LINK.findall(text) if path.suffix == '.md' else ():
        target = target.split('#')[0]
        if target and not re.match(r'^[a-z]+:', target) and not (path.parent / target).exists():
            missing.append(target)
    missing += [name for name in MD_NAME.findall(text) if name not in markdown_names()]
    method = (REPO / 'docs' / 'method.md').read_text()
    missing += [f'docs/method.md section {n}' for n in SECTION.findall(text)
                if not re.search(rf'^## {n}\. ', method, re.MULTILINE)]
    assert not missing, f'{path.relative_to(REPO)} cites what the repository lacks: {missing}'


def test_the_checker_sees_a_missing_citation():
    found = repo_path_citations('see docs/gone.md and tools/train.py.')
    assert found == ['docs/gone.md', 'tools/train.py']
    assert repo_path_citations("mmseg's `tools/dataset_converters/cityscapes.py`") == []
    assert repo_path_citations("mmdet's ``tools/analysis_tools/get_flops.py``") == []
    assert repo_path_citations("with mmdet3d\\'s tools/create_data.py") == []
    assert repo_path_citations('configs/x/a_{41,34}ms.py and finetune_<c>.py') == []
