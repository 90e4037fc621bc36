"""The code runs on the oldest supported Python (3.9), not only on the interpreters CI has."""
import ast

import pytest

from ..helpers import REPO

SOURCES = sorted(p for folder in ('projects', 'tools', 'tests', 'configs')
                 for p in (REPO / folder).rglob('*.py'))


def annotation_unions(tree: ast.AST) -> list[int]:
    """Lines of ``X | Y`` annotations, which Python 3.9 cannot evaluate."""
    annotations = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            arguments = node.args.posonlyargs + node.args.args + node.args.kwonlyargs
            arguments += [a for a in (node.args.vararg, node.args.kwarg) if a]
            annotations += [a.annotation for a in arguments] + [node.returns]
        elif isinstance(node, ast.AnnAssign):
            annotations.append(node.annotation)
    return [node.lineno for annotation in annotations if annotation is not None
            for node in ast.walk(annotation)
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr)]


@pytest.mark.parametrize('path', SOURCES, ids=lambda p: str(p.relative_to(REPO)))
def test_python_3_9_can_run_it(path):
    source = path.read_text()
    tree = ast.parse(source, str(path), feature_version=(3, 9))  # no 3.10+ syntax (match, ...)
    future = 'from __future__ import annotations' in source
    assert future or not annotation_unions(tree), f'X | Y annotations at {annotation_unions(tree)}'


def test_the_union_check_finds_one():
    assert annotation_unions(ast.parse('def f(x: int | None) -> str: ...')) == [1]
