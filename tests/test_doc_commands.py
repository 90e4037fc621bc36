"""The shell commands of the READMEs, docs/ and benchmarks/: their scripts and config paths
exist, their options parse with each tool's own parser, and every search names the device or
table its latency band is meant for. Nothing is run."""
import re
import shlex
from pathlib import Path

import pytest

from .helpers import REPO
from .helpers import load_tool as tool

DOCS = ['README.md', 'projects/sparsevit/README.md', *sorted(
    str(p.relative_to(REPO)) for pattern in ('docs/*.md', 'benchmarks/*.md')
    for p in REPO.glob(pattern))]
BLOCK = re.compile(r'```(?:bash|sh|shell)\n(.*?)```', re.S)
ASSIGNMENT = re.compile(r'^([A-Z_][A-Z0-9_]*)=(\S+)$')
LOOP = re.compile(r'^for ([A-Z_][A-Z0-9_]*) in ([^;]+);')
CHOICES = re.compile(r'^\{[^{},]+(,[^{},]+)+\}$')  # `{pytorch,compile,onnxruntime}`: each
REPO_PATH = re.compile(r'^(configs|tools|benchmarks|projects)/\S+\.(py|sh)$')


def _variants(line: str, variables: dict[str, list[str]]) -> list[list[str]]:
    """The words of ``line`` for every value of its variables (a loop's each value) and every
    alternative of a ``{a,b}`` placeholder."""
    lines = [line]
    for name in sorted(variables, key=len, reverse=True):  # $BD before $B
        pattern = re.compile(r'\$\{?' + name + r'\b\}?')
        lines = [pattern.sub(value, text) for text in lines
                 for value in (variables[name] if pattern.search(text) else [''])]
    commands = []
    for text in lines:
        words = shlex.split(text, comments=True)
        choices = next((CHOICES.match(w) for w in words if CHOICES.match(w)), None)
        if choices is None:
            commands.append(words)
            continue
        for value in choices.group(0)[1:-1].split(','):
            commands.append([value if w == choices.group(0) else w for w in words])
    return [words for words in commands if words]


def doc_commands() -> list[tuple[str, list[str]]]:
    """Every command line of the docs' shell blocks, continuation lines joined, the block's
    variables (each value of a loop) substituted."""
    commands = []
    for doc in DOCS:
        for block in BLOCK.findall((REPO / doc).read_text()):
            variables: dict[str, list[str]] = {}
            for line in re.sub(r'\\\n\s*', ' ', block).splitlines():
                line = line.strip()
                if ASSIGNMENT.match(line):
                    name, value = ASSIGNMENT.match(line).groups()
                    variables[name] = [value]
                elif LOOP.match(line):
                    name, values = LOOP.match(line).groups()
                    variables[name] = values.split()
                elif line and not line.startswith(('#', 'done', 'cd ')):
                    commands.extend((doc, words) for words in _variants(line, variables))
    return commands


COMMANDS = doc_commands()
TOOL_COMMANDS = [(doc, words) for doc, words in COMMANDS
                 if any(REPO_PATH.match(w) and w.startswith('tools/') for w in words)]
# the Python tools (a shell wrapper takes its tool's options after the config: not parsed here)
PYTHON_TOOL_COMMANDS = [(doc, words) for doc, words in TOOL_COMMANDS
                        if next(w for w in words if REPO_PATH.match(w)
                                and w.startswith('tools/')).endswith('.py')]


def _script(words: list[str]) -> tuple[str, list[str]]:
    index = next(i for i, w in enumerate(words) if REPO_PATH.match(w) and w.startswith('tools/'))
    return words[index], words[index + 1:]


def _is_mim(words: list[str]) -> bool:
    """A mim command: ``mim ...`` or an environment's ``.venv/bin/mim ...``."""
    return bool(words) and Path(words[0]).name == 'mim'


def test_the_docs_have_tool_commands():
    scripts = [_script(words)[0] for _, words in PYTHON_TOOL_COMMANDS]
    assert len(scripts) >= 30 and scripts.count('tools/search.py') >= 4
    assert sum(_is_mim(words) for _, words in COMMANDS) >= 4


@pytest.mark.parametrize('doc,words', COMMANDS, ids=lambda v: v if isinstance(v, str) else '')
def test_repository_paths_in_commands_exist(doc, words):
    missing = [w for w in words if REPO_PATH.match(w) and not (REPO / w).is_file()]
    assert not missing, f'{doc}: {" ".join(words)} names missing files {missing}'


PLACEHOLDER = re.compile(r'^[A-Z][A-Z0-9_]*$')  # CONFIG, CHECKPOINT, SAA_CHECKPOINT


def _stand_ins(args: list[str], folder: Path) -> list[str]:
    """The arguments with placeholders and files a user would have made (checkpoints of
    their training, latency tables) replaced by empty files of the kind the name says: the
    tools check that their inputs exist while parsing."""
    out = []
    for arg in args:
        if PLACEHOLDER.match(arg) or (arg.endswith(('.py', '.pth', '.json'))
                                      and not (REPO / arg).exists()):
            suffix = '.py' if 'CONFIG' in arg else Path(arg).suffix or '.pth'
            stand_in = folder / f'{len(out)}{suffix}'
            stand_in.write_text('')
            arg = str(stand_in)
        out.append(arg)
    return out


@pytest.mark.parametrize('doc,words', PYTHON_TOOL_COMMANDS,
                         ids=lambda v: v if isinstance(v, str) else '')
def test_tool_options_parse(doc, words, tmp_path, monkeypatch):
    script, args = _script(words)
    monkeypatch.chdir(REPO)
    args = _stand_ins(args, tmp_path)
    module = tool(script[len('tools/'):-len('.py')])
    try:
        module.parse_args(args)
    except SystemExit as err:
        pytest.fail(f'{doc}: `{script} {" ".join(args)}` does not parse ({err})')


@pytest.mark.parametrize('doc,words', [(d, w) for d, w in TOOL_COMMANDS
                                       if _script(w)[0] == 'tools/search.py'],
                         ids=lambda v: v if isinstance(v, str) else '')
def test_search_commands_name_the_latency_device_or_table(doc, words):
    """The latency device defaults to CUDA where there is one: a band in CPU milliseconds
    needs ``--latency-device cpu``, a band for a GPU ``--latency-device cuda``."""
    assert '--latency-device' in words or '--latency-table' in words, \
        f'{doc}: `{" ".join(words)}` gives a latency band without its device or table'


@pytest.mark.parametrize('doc,words', [(d, w) for d, w in COMMANDS if _is_mim(w)],
                         ids=lambda v: v if isinstance(v, str) else '')
def test_mim_commands_name_configs_that_exist(doc, words):
    configs = [w for w in words[3:] if w.endswith('.py')]
    for config in configs:
        found = (REPO / config).is_file() or any(REPO.glob(f'configs/**/{config}'))
        assert found, f'{doc}: `{" ".join(words)}`: no config {config}'
