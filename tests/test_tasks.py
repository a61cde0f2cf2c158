"""`python3 tasks.py`: `run` installs only what running needs and `test` the test tools too
(the stamp keeps both right); signals sent to tasks.py reach the server; a busy port is one
line naming --port."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from frontdoor_testkit.server_process import free_port

ROOT = Path(__file__).resolve().parent.parent
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def load_tasks(root: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("tasks_under_test", root / "tasks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def tasks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[ModuleType, list[str]]:
    """tasks.py with its .venv in tmp_path and pip recorded instead of run."""
    module = load_tasks(ROOT)
    venv = tmp_path / ".venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").write_text("")
    monkeypatch.setattr(module, "VENV", venv)
    monkeypatch.setattr(module, "BIN", venv / "bin")
    monkeypatch.setattr(module, "STAMP", venv / ".frontdoor-installed")
    installs: list[str] = []

    def fake_run(args: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        if args[-2] == "-e":
            installs.append(Path(args[-1]).name)
        return subprocess.CompletedProcess(args, 0)

    monkeypatch.setattr(module.subprocess, "run", fake_run)
    return module, installs


def test_run_installs_what_running_needs_and_test_adds_the_test_tools(
        tasks: tuple[ModuleType, list[str]], monkeypatch: pytest.MonkeyPatch) -> None:
    module, installs = tasks

    class Executed(Exception):
        pass

    def execv(_path: str, argv: list[str]) -> None:
        raise Executed(argv)

    monkeypatch.setattr(module.os, "execv", execv)
    monkeypatch.setattr(module.os, "chdir", lambda _: None)
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()

    with pytest.raises(Executed) as ran:  # run: the project, not the dev extra
        module.run(["policy", "show", "konneqt"])
    assert installs == [ROOT.name] and ran.value.args[0][1:] == ["policy", "show", "konneqt"]
    with pytest.raises(Executed):
        module.run([])
    assert installs == [ROOT.name]  # installed already: nothing again
    module.ensure_environment(("dev",))  # test: the test tools are added
    assert installs == [ROOT.name, f"{ROOT.name}[dev]"]
    assert module.STAMP.read_text() == f"{wanted} dev"
    module.ensure_environment()
    module.ensure_environment(("dev",))
    assert len(installs) == 2  # both satisfied by what is there

    module.STAMP.write_text("an-older-pyproject dev")  # pyproject.toml changed since
    module.ensure_environment()
    assert installs[-1] == ROOT.name and module.STAMP.read_text() == wanted
    module.ensure_environment(("dev",))
    assert installs[-1] == f"{ROOT.name}[dev]"


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """tasks.py beside a copy of pyproject.toml, its .venv the real one's programs (already
    installed for it: the stamp says so), so `run` installs nothing and starts the server."""
    root = tmp_path / "checkout"
    (root / ".venv" / "bin").mkdir(parents=True)
    for name in ("tasks.py", "pyproject.toml"):
        shutil.copy(ROOT / name, root / name)
    real = Path(sys.executable).parent
    for program in ("python", "frontdoor"):
        (root / ".venv" / "bin" / program).symlink_to(real / program)
    digest = hashlib.sha256((root / "pyproject.toml").read_bytes()).hexdigest()
    (root / ".venv" / ".frontdoor-installed").write_text(f"{digest} dev")
    return root


def _healthy(port: int) -> bool:
    try:
        with _OPENER.open(f"http://127.0.0.1:{port}/healthz", timeout=2) as resp:
            return bool(resp.status == 200)
    except OSError:
        return False


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_to_tasks_py_stops_the_server(checkout: Path, sig: signal.Signals) -> None:
    port = free_port()
    env = {**os.environ, "FRONTDOOR_DB": str(checkout / "fd.db")}
    proc = subprocess.Popen([sys.executable, str(checkout / "tasks.py"), "run", "serve",
                             "--port", str(port)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while not _healthy(port):
            assert proc.poll() is None and time.monotonic() < deadline, \
                proc.stdout.read() if proc.stdout else ""
            time.sleep(0.1)
        proc.send_signal(sig)
        proc.wait(timeout=20)
        deadline = time.monotonic() + 10
        while _healthy(port) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _healthy(port), "the server outlived tasks.py"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_a_busy_port_through_tasks_py_is_one_line_naming_port(checkout: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run([sys.executable, str(checkout / "tasks.py"), "run", "serve",
                               "--port", str(port)], capture_output=True, text=True,
                              timeout=60, env={**os.environ,
                                               "FRONTDOOR_DB": str(checkout / "fd.db")})
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and "--port" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
