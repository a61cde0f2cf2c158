#!/usr/bin/env python3
"""Set up and run Frontdoor with nothing but Python 3.11: `python3 tasks.py run|test`.

Each command creates `.venv` on first use and (re)installs the project when pyproject.toml
changes, so a fresh clone needs no other step.
"""

from __future__ import annotations

import hashlib
import os
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


def ensure_environment() -> None:
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
    if STAMP.exists() and STAMP.read_text().strip() == wanted:
        return
    print("• installing Frontdoor and its dependencies into .venv", flush=True)
    subprocess.run(
        [_python(), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "--upgrade", "pip"],
        check=True,
    )
    subprocess.run(
        [_python(), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "-e", f"{ROOT}[dev]"],
        check=True,
    )
    STAMP.write_text(wanted)


def run(args: list[str]) -> int:
    ensure_environment()
    command = args or ["serve"]
    return subprocess.call([str(BIN / "frontdoor"), *command], cwd=ROOT)


def test(args: list[str]) -> int:
    ensure_environment()
    steps = [
        ["ruff", "check", "policy", "bot", "adapters", "frontdoor_testkit", "tests", "bench",
         "tasks.py"],
        ["mypy", "policy", "bot", "adapters"],
        ["pytest", *args],
    ]
    for step in steps:
        print(f"• {' '.join(step)}", flush=True)
        code = subprocess.call([str(BIN / step[0]), *step[1:]], cwd=ROOT)
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
