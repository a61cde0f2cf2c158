"""Failures a fake peer (the fake Slack, the fake Bot Framework connector) is told to answer
with: per kind of call, a status for the next N calls, with Retry-After if given. The fakes
call it under their own lock."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class _Failure:
    status: int
    retry_after: int | None
    times: int


@dataclass
class ScriptedFailures:
    _by_kind: dict[str, _Failure] = field(default_factory=dict)

    def arm(self, kind: str, status: int, times: int, retry_after: int | None = None) -> None:
        self._by_kind[kind] = _Failure(status, retry_after, times)

    def take(self, kind: str) -> tuple[int, dict[str, str]] | None:
        """(status, headers) if this call of `kind` is to fail, else None."""
        failure = self._by_kind.get(kind)
        if failure is None or failure.times <= 0:
            return None
        failure.times -= 1
        headers = {"Retry-After": str(failure.retry_after)} \
            if failure.retry_after is not None else {}
        return failure.status, headers

    def clear(self) -> None:
        self._by_kind.clear()
