"""The suite's own imports: what tests share lives in helper modules, never in a test module or a conftest.

A test module imported by another runs its module-level code twice and drags its
fixtures and parametrisations along; a conftest is pytest's to load (under its own
module name, so an import makes a second copy of it). import-linter's contracts
cannot name "every module called test_*", so this reads the imports itself.
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def imported(source: str, importer: str) -> set[str]:
    """Every module the source imports, anywhere in it, as absolute names (a `from x import y` counts x and x.y)."""
    names: set[str] = set()
    package = importer.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def forbidden(names: set[str]) -> list[str]:
    """The names that are a test module or a conftest of this suite."""
    return sorted(name for name in names if name.split(".")[0] == "tests" and name.rsplit(".", 1)[-1].startswith(("test_", "conftest")))


def test_no_module_of_the_suite_imports_a_test_module_or_a_conftest():
    found = {
        module_name(path): forbidden(imported(path.read_text(encoding="utf-8"), module_name(path))) for path in sorted(TESTS.rglob("*.py"))
    }
    assert len(found) > 30  # the suite was found
    assert {module: names for module, names in found.items() if names} == {}


def test_the_check_sees_each_way_of_importing_one():
    source = """
from tests.test_app import run
import tests.e2e.test_models as models
from tests.e2e import test_compare
from . import conftest
from .test_poller import make_poller
def later():
    from tests.conftest import TEST_KEY
from tests.helpers import wait_until
from tests.e2e.browser import open_app
from videogen.test_data import x
"""
    assert forbidden(imported(source, "tests.e2e.test_reel")) == [
        "tests.conftest",
        "tests.e2e.conftest",
        "tests.e2e.test_compare",
        "tests.e2e.test_models",
        "tests.e2e.test_poller",
        "tests.test_app",
    ]
