"""Test modules import helpers from plain modules (`tests/helpers.py`, `tests/factories.py`,
`tests/faults/helpers.py`), never from a conftest: pytest loads conftests itself, and a conftest
imported by name is loaded twice under two names (issue 15, finding 9)."""

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def _conftest_imports(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found += [name for name in names if name.split(".")[-1] == "conftest"]
    return found


def test_no_test_module_imports_a_conftest():
    offenders = {
        str(path.relative_to(TESTS)): imported
        for path in sorted(TESTS.rglob("*.py"))
        if "node_modules" not in path.parts and (imported := _conftest_imports(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}


def test_the_check_sees_every_form_of_conftest_import():
    assert _conftest_imports("from tests.conftest import with_mfa") == ["tests.conftest"]
    assert _conftest_imports("def f():\n    from conftest import x\n") == ["conftest"]
    assert _conftest_imports("import tests.faults.conftest") == ["tests.faults.conftest"]
    assert _conftest_imports("from tests.helpers import with_mfa") == []
