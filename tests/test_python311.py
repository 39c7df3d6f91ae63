"""The worker's code stays runnable on Python 3.11 (Debian 12, Raspberry Pi OS).

The wheel's package `nvr_inference` declares `requires-python >= 3.11`. The worker imports the
package's `__init__.py` and the engine, nothing else, so those must parse with 3.11's grammar:
no `type` statements or PEP 695 generics, no PEP 701 f-strings (a nested string reusing the
outer quote). Under Python 3.11 itself (the worker311 lane) `ast.parse` is exact; under newer
Pythons `feature_version` rejects the newer statements and the tokenizer check below catches
the f-strings, which `feature_version` lets through. (scripts/lint also type-checks the engine
for 3.11, which catches 3.12-only stdlib APIs.)
"""

from __future__ import annotations

import ast
import io
from pathlib import Path
import sys
import token
import tokenize

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "custom_components" / "nvr_inference"
WORKER_MODULES = sorted([PACKAGE / "__init__.py", *(PACKAGE / "engine").rglob("*.py")])


def _quote(string_start: str) -> str:
    """The quote of a string token's opening (`rb'''` -> `'''`)."""
    body = string_start.lstrip("rRbBfFuUtT")
    return body[:3] if body[:3] in ('"""', "'''") else body[:1]


def pep701_fstrings(source: str) -> list[int]:
    """Lines where a string inside an f-string's replacement field reuses an enclosing quote."""
    if sys.version_info < (3, 12):
        return []  # 3.11's tokenizer has no f-string tokens: its ast.parse already refuses them
    lines, quotes = [], []
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == token.FSTRING_START:
            if quotes and _quote(tok.string)[0] in {q[0] for q in quotes}:
                lines.append(tok.start[0])
            quotes.append(_quote(tok.string))
        elif tok.type == token.FSTRING_END:
            quotes.pop()
        elif (
            tok.type == token.STRING and quotes and _quote(tok.string)[0] in {q[0] for q in quotes}
        ):
            lines.append(tok.start[0])
    return lines


def test_the_worker_modules_are_found() -> None:
    names = {p.relative_to(PACKAGE).as_posix() for p in WORKER_MODULES}
    assert {
        "__init__.py",
        "engine/worker/cli.py",
        "engine/worker/service.py",
        "engine/pipeline/runner.py",
    } <= names


@pytest.mark.parametrize("path", WORKER_MODULES, ids=lambda p: p.relative_to(PACKAGE).as_posix())
def test_worker_module_parses_with_python_311_grammar(path: Path) -> None:
    source = path.read_text()
    ast.parse(source, filename=str(path), feature_version=(3, 11))
    assert pep701_fstrings(source) == [], f"{path.name}: f-string reuses its quote (3.12+)"


def test_the_check_catches_what_311_refuses() -> None:
    for newer in ("type Alias = int\n", "def f[T](x: T) -> T:\n    return x\n"):
        with pytest.raises(SyntaxError):
            ast.parse(newer, feature_version=(3, 11))
    nested = 'name = "x"\ntext = f"{f"{name}"}"\nother = f"{name + "!"}"\n'
    fine = "name = 'x'\ntext = f\"{name!r} {'ok'}\"\n"
    assert pep701_fstrings(fine) == []
    if sys.version_info >= (3, 12):
        assert pep701_fstrings(nested) == [2, 3]
    else:
        with pytest.raises(SyntaxError):
            ast.parse(nested)
