"""Dependency direction, walked over the source: adapters → bot → policy, and test support
apart from the tests (README, "Layout").

- policy/ imports nothing of ours and does no I/O but reading its packs;
- bot/ is channel-neutral: no adapters, no platform SDK;
- adapters/compose.py is the one composition root: no other adapter module builds another
  platform's objects (a platform package never imports another, only the root imports
  Slack's or Teams', each SDK stays in its platform's package, and the platforms never reach
  back up into the root or the processes); adapters/worker.py is only the loop;
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


@pytest.mark.parametrize("forbidden", ["adapters", "slack_bolt", "slack_sdk", "botbuilder",
                                       "botframework", "msrest"])
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


# -- adapters: one composition root -------------------------------------------------------------

ROOT_MODULE = "adapters/compose.py"
# Each platform's package (or module), and the SDKs only it may import.
PLATFORMS = {"adapters.slack": ("slack_bolt", "slack_sdk"),
             "adapters.teams": ("botbuilder", "botframework", "msrest"),
             "adapters.web": (), "adapters.terminal": ()}
BUILT_BY_THE_ROOT = ("adapters.slack", "adapters.teams")  # platforms with objects to build
PROCESSES = ("adapters.compose", "adapters.server", "adapters.worker", "adapters.cli")


def _module_imports(package: str) -> dict[str, set[str]]:
    """Every module each file imports, by its full dotted name (``from a import b`` counts as
    both ``a`` and ``a.b``: b may be a module)."""
    found: dict[str, set[str]] = {}
    for path in (ROOT / package).rglob("*.py"):
        here = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parent = here.split(".")[: -node.level]
                    base = ".".join([*parent, base] if base else parent)
                names.add(base)
                names.update(f"{base}.{alias.name}" for alias in node.names)
        found[str(path.relative_to(ROOT))] = names
    return found


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def _platform(name: str) -> str | None:
    return next((p for p in PLATFORMS if _within(name, p)), None)


def _dotted(path: str) -> str:
    return path.removesuffix(".py").removesuffix("/__init__").replace("/", ".")


def test_no_adapter_module_but_the_root_builds_another_platforms_objects() -> None:
    """A platform never imports another platform; outside them, only the composition root
    imports Slack's or Teams' package (server, worker and the CLI get what they need from
    it; the server hosts the web chat's routes, the CLI runs the terminal chat)."""
    offenders = []
    for path, names in _module_imports("adapters").items():
        own = _platform(_dotted(path))
        for name in names:
            other = _platform(name)
            if other is None or other == own:
                continue
            if own is not None or (other in BUILT_BY_THE_ROOT and path != ROOT_MODULE):
                offenders.append(f"{path} imports {name}")
    assert offenders == []


def test_each_platform_sdk_stays_in_its_platforms_package() -> None:
    offenders = []
    for path, names in _module_imports("adapters").items():
        own = _platform(_dotted(path))
        for platform, sdks in PLATFORMS.items():
            if platform == own:
                continue
            offenders += [f"{path} imports {n}" for n in names
                          if any(_within(n, sdk) for sdk in sdks)]
    assert offenders == []


def test_platforms_never_reach_back_up_into_the_root_or_the_processes() -> None:
    offenders = [f"{path} imports {name}"
                 for path, names in _module_imports("adapters").items()
                 if _platform(_dotted(path)) is not None
                 for name in names if any(_within(name, p) for p in PROCESSES)]
    assert offenders == []


def test_the_worker_module_is_only_the_loop() -> None:
    """adapters/worker.py builds nothing: the root hands it a scheduler and an outbox."""
    ours = {n for n in _module_imports("adapters")["adapters/worker.py"]
            if _within(n, "adapters")}
    assert ours == set()


def test_slack_and_teams_wiring_mirror_each_other() -> None:
    """The root asks each platform's wiring the same questions."""
    import adapters.slack.wiring as slack
    import adapters.teams.wiring as teams

    asked = {"front_door", "front_door_deliverers", "posting_deliverers", "notice_sink"}
    assert asked <= set(vars(slack)) and asked <= set(vars(teams))


def test_the_root_walker_sees_real_imports() -> None:
    """Guard against a walker that finds nothing: the root does import both platforms."""
    names = _module_imports("adapters")[ROOT_MODULE]
    assert "adapters.slack.wiring" in names and "adapters.teams.wiring" in names
