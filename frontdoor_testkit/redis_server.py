"""Run a throwaway `redis-server` for tests: our own port, our own directory, nothing shared.

Used by the session fixture in tests/conftest.py, by the benches, and by tests that must
restart Redis (start it with `appendonly=True` in a directory, stop it, start it again on the
same directory).
"""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

import redis

INSTALL_HINT = "install it with `apt-get install redis-server` (or set REDIS_URL to a server)"


def redis_server_binary() -> str | None:
    """Path of `redis-server`, or None when it isn't installed."""
    return shutil.which("redis-server")


def in_ci() -> bool:
    """CI systems set CI (GitHub: "true"); there a missing Redis is a failure, not a skip."""
    return os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no"}


def require_redis_server() -> str:
    """The `redis-server` path; else fail the test in CI, or skip it saying how to install."""
    binary = redis_server_binary()
    if binary is not None:
        return binary
    import pytest  # only a test asks for this: the benches use the rest without pytest

    if in_ci():
        pytest.fail(f"CI is set but redis-server is missing: {INSTALL_HINT}", pytrace=False)
    pytest.skip(f"redis-server is not installed: {INSTALL_HINT}")


def free_port() -> int:
    """A TCP port nobody listens on right now (the kernel's pick)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_redis_server(
    port: int,
    dir: Path | str,
    appendonly: bool = False,
    *,
    extra_args: Sequence[str] = (),
    timeout: float = 10.0,
) -> subprocess.Popen[bytes]:
    """Start `redis-server` on 127.0.0.1:`port` with its files in `dir`; return once it
    answers PING. No RDB snapshots; with `appendonly` an AOF fsynced on every write, so a
    restart on the same `dir` finds every acknowledged write. Its log is `dir/redis.log`.
    `extra_args` go to redis-server as they are (e.g. `["--requirepass", "pw"]`)."""
    binary = redis_server_binary()
    if binary is None:
        raise RuntimeError(f"redis-server is not installed: {INSTALL_HINT}")
    workdir = Path(dir)
    workdir.mkdir(parents=True, exist_ok=True)
    args = [
        binary,
        "--port", str(port),
        "--bind", "127.0.0.1",
        "--dir", str(workdir),
        "--save", "",
        "--appendonly", "yes" if appendonly else "no",
        "--appendfsync", "always",
        "--daemonize", "no",
        "--logfile", "",
        *extra_args,
    ]  # fmt: skip
    with open(workdir / "redis.log", "ab") as log:
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, cwd=workdir)
    try:
        wait_for_redis(port, proc, timeout=timeout, password=_password(extra_args))
    except BaseException:
        stop_redis_server(proc)
        raise
    return proc


def wait_for_redis(
    port: int,
    proc: subprocess.Popen[bytes] | None = None,
    *,
    timeout: float = 10.0,
    password: str | None = None,
) -> None:
    """Block until 127.0.0.1:`port` answers PING; fail early if `proc` died."""
    deadline = time.monotonic() + timeout
    client = redis.Redis(host="127.0.0.1", port=port, password=password, socket_connect_timeout=0.5)
    try:
        while True:
            if proc is not None and proc.poll() is not None:
                raise RuntimeError(
                    f"redis-server on port {port} exited with {proc.returncode} at start-up;"
                    " see redis.log in its directory"
                )
            try:
                if client.ping():
                    return
            except redis.exceptions.RedisError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"redis-server on port {port} did not answer PING in {timeout}s")
            time.sleep(0.05)
    finally:
        client.close()


def _password(args: Sequence[str]) -> str | None:
    for flag, value in itertools.pairwise(args):
        if flag == "--requirepass":
            return value
    return None


def stop_redis_server(proc: subprocess.Popen[bytes], *, timeout: float = 10.0) -> None:
    """SIGTERM (Redis flushes its AOF and exits), SIGKILL if it takes too long."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout)
