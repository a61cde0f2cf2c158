#!/usr/bin/env python3
"""Set up and run Frontdoor with nothing but Python 3.11: `python3 tasks.py run|test`.

Each command creates `.venv` on first use and (re)installs the project when pyproject.toml
changes, so a fresh clone needs no other step: `run` installs what running needs, `test` the
test tools too (the `dev` extra). Signals sent to tasks.py reach the server or test step.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".frontdoor-installed"


def _python() -> str:
    return str(BIN / "python")


def _stamp() -> tuple[str, set[str]]:
    """What .venv holds: the pyproject.toml hash it was installed for, and its extras."""
    if not STAMP.exists():
        return "", set()
    digest, *extras = STAMP.read_text().split()
    return digest, set(extras)


def ensure_environment(extras: tuple[str, ...] = ()) -> None:
    """.venv with the project installed for this pyproject.toml, and `extras` (the test
    tools are the `dev` extra; running needs none). Installs only what is missing."""
    if sys.version_info < (3, 11):  # noqa: UP036 (tasks.py runs on whatever python3 is)
        sys.exit(f"Frontdoor needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    if not (BIN / "python").exists():
        print("• creating virtual environment in .venv", flush=True)
        try:
            venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
        except (OSError, subprocess.CalledProcessError) as exc:
            sys.exit(
                f"could not create .venv ({exc}); on Debian/Ubuntu install python3-venv first"
            )
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    digest, installed = _stamp()
    if digest == wanted and set(extras) <= installed:
        return
    have = installed if digest == wanted else set()
    target = str(ROOT) + (f"[{','.join(sorted(extras))}]" if extras else "")
    print("• installing Frontdoor" + (" and its test tools" if "dev" in extras else "")
          + " into .venv", flush=True)
    subprocess.run(
        [_python(), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "--upgrade", "pip"],
        check=True,
    )
    subprocess.run(
        [_python(), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "-e", target],
        check=True,
    )
    STAMP.write_text(" ".join([wanted, *sorted(have | set(extras))]))


def _supervised(command: list[str]) -> int:
    """Run `command` in ROOT until it exits, passing SIGTERM and SIGINT on to it (a Ctrl-C
    in a terminal reaches it directly; one sent to this process alone is passed on)."""
    child = subprocess.Popen(command, cwd=ROOT)

    def forward(signum: int, _frame: object) -> None:
        if child.poll() is None:
            child.send_signal(signum)

    previous = signal.signal(signal.SIGTERM, forward)
    try:
        while True:
            try:
                code = child.wait()
                return 128 - code if code < 0 else code  # killed by signal N: 128 + N
            except KeyboardInterrupt:
                forward(signal.SIGINT, None)  # then wait for it to finish
    finally:
        signal.signal(signal.SIGTERM, previous)


def run(args: list[str]) -> int:
    """Run `frontdoor` (default: `serve`). Where the OS allows, the command takes this
    process's place, so every signal sent to `tasks.py` (SIGTERM, SIGINT) reaches it."""
    ensure_environment()
    command = [str(BIN / "frontdoor"), *(args or ["serve"])]
    if os.name == "posix":
        os.chdir(ROOT)
        sys.stdout.flush()
        sys.stderr.flush()
        os.execv(command[0], command)
    return _supervised(command)


def test(args: list[str]) -> int:
    ensure_environment(("dev",))
    steps = [
        ["ruff", "check", "policy", "bot", "adapters", "frontdoor_testkit", "tests", "bench",
         "tasks.py"],
        ["mypy", "policy", "bot", "adapters"],
        ["pytest", *args],
    ]
    for step in steps:
        print(f"• {' '.join(step)}", flush=True)
        code = _supervised([str(BIN / step[0]), *step[1:]])
        if code != 0:
            print(f"✗ {step[0]} failed (exit {code})", flush=True)
            return code
    return 0


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in {"run", "test"}:
        print("usage: python3 tasks.py run [frontdoor arguments…] | test [pytest arguments…]")
        return 2
    handler = run if sys.argv[1] == "run" else test
    try:
        return handler(sys.argv[2:])
    except subprocess.CalledProcessError as exc:
        print(f"✗ set-up step failed: {' '.join(map(str, exc.cmd))}", file=sys.stderr)
        return exc.returncode or 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
