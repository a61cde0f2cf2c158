"""Dependency direction, walked over the source: adapters → bot → policy, and test support
apart from the tests (README, "Layout").

- policy/ imports nothing of ours and does no I/O but reading its packs;
- bot/ is channel-neutral: no adapters, no platform SDK;
- frontdoor_testkit/ (the fakes and harnesses) and bench/ never import the test suite, and
  nothing in the product imports the test support or the benches;
- adapters/ raises its own exceptions from one root, each documented in adapters/errors.py.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _imports(package: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in (ROOT / package).rglob("*.py"):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
            elif isinstance(node, ast.ImportFrom) and node.level > 0:
                names.add(package)
        found[str(path.relative_to(ROOT))] = names
    return found


def test_policy_imports_nothing_of_ours() -> None:
    """policy/ is the bottom layer: it may not import bot or adapters."""
    offenders = {f: n & {"bot", "adapters"} for f, n in _imports("policy").items()}
    assert not {f: n for f, n in offenders.items() if n}


@pytest.mark.parametrize("forbidden", ["adapters", "slack_bolt", "slack_sdk", "botbuilder"])
def test_bot_never_imports_adapters_or_platform_sdks(forbidden: str) -> None:
    """bot/ is channel-neutral: no adapters, no slack_bolt, no botbuilder."""
    offenders = [f for f, names in _imports("bot").items() if forbidden in names]
    assert offenders == []


def test_policy_does_no_network_or_process_io() -> None:
    """policy/ reads its pack files and nothing else: no sockets, HTTP, subprocesses, clocks."""
    banned = {"socket", "subprocess", "aiohttp", "redis", "requests", "urllib", "http", "sqlite3"}
    offenders = {f: n & banned for f, n in _imports("policy").items()}
    assert not {f: n for f, n in offenders.items() if n}
    for path in (ROOT / "policy").rglob("*.py"):
        source = path.read_text()
        assert "datetime.now(" not in source and "time.time(" not in source, path


def test_the_walker_sees_real_imports() -> None:
    """Guard against a walker that finds nothing: policy.sla does import policy.pack."""
    assert "policy" in _imports("policy")["policy/sla.py"]


def _strings(package: str) -> dict[str, set[str]]:
    """The string constants of each module (a module run with ``-m`` is named in one; the
    data the benches read, tests/data, is named too and is no import)."""
    found: dict[str, set[str]] = {}
    for path in (ROOT / package).rglob("*.py"):
        tree = ast.parse(path.read_text(), str(path))
        found[str(path.relative_to(ROOT))] = {
            node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)}
    return found


@pytest.mark.parametrize("package", ["bench", "frontdoor_testkit"])
def test_benches_and_test_support_never_import_the_tests(package: str) -> None:
    """What the benches share with the tests lives in frontdoor_testkit, not in tests/."""
    offenders = [f for f, names in _imports(package).items() if "tests" in names]
    assert offenders == []
    runs = {f: {s for s in strings if s.startswith("tests.")}
            for f, strings in _strings(package).items()}
    assert not {f: s for f, s in runs.items() if s}


@pytest.mark.parametrize("package", ["policy", "bot", "adapters"])
def test_the_product_never_imports_tests_benches_or_test_support(package: str) -> None:
    offenders = {f: n & {"tests", "bench", "frontdoor_testkit"}
                 for f, n in _imports(package).items()}
    assert not {f: n for f, n in offenders.items() if n}


def test_adapter_exceptions_have_one_root_documented_in_one_place() -> None:
    """Every public exception an adapter raises is declared in adapters/errors.py, under
    AdapterError, and drawn in that module's tree (as policy/errors.py and bot/errors.py)."""
    import adapters.errors as errors

    declared_elsewhere = []
    for path in (ROOT / "adapters").rglob("*.py"):
        if path.name == "errors.py" and path.parent.name == "adapters":
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_") and any(
                    isinstance(b, ast.Name) and b.id.endswith(("Error", "Exception"))
                    for b in node.bases):
                declared_elsewhere.append(f"{path.relative_to(ROOT)}: {node.name}")
    assert declared_elsewhere == []
    classes = [v for v in vars(errors).values()
               if isinstance(v, type) and issubclass(v, Exception) and v.__module__ ==
               errors.__name__]
    assert classes and all(issubclass(c, errors.AdapterError) for c in classes)
    assert all(c.__name__ in (errors.__doc__ or "") for c in classes)
