"""The small servers `bench/slack_events.py` runs as subprocesses, next to `frontdoor serve`:

    python -m bench._slack_bench_apps bolt PORT   # (a) a trivial bolt app that only acks
    python -m bench._slack_bench_apps bare PORT   # (b) a bare aiohttp handler: 200 at once
    python -m bench._slack_bench_apps fake PORT   # the fake Slack Web API in its own process

(a) is the ceiling for anything built on bolt: the same `AsyncApp` the front door uses, with
`authorize=` (no auth.test) and an `app_mention` listener that does nothing, mounted the way
the platform notes describe (`to_bolt_request` → `async_dispatch` → `to_aiohttp_response`).
(b) is the ceiling for HTTP on this machine. Both log nothing per request, like the product.

`fake` runs the fake Slack Web API (its own thread, as in the tests) and, on PORT, a control
endpoint: `GET /calls?since=N` answers the calls recorded from index N on as
`[[method, channel, thread_ts, at, text], …]` (`at` is the fake's `time.time()` on arrival), and
`POST /reset` forgets them. The fake's own base URL is printed as the first line on stdout.
"""

from __future__ import annotations

import sys
from typing import Any

from aiohttp import web


def bolt_app(signing_secret: str, token: str) -> web.Application:
    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
    from slack_bolt.async_app import AsyncApp
    from slack_bolt.authorization import AuthorizeResult

    from frontdoor_testkit.fake_slack import BOT_ID, BOT_USER_ID, TEAM_ID

    async def authorize(**_: Any) -> AuthorizeResult:
        return AuthorizeResult(enterprise_id=None, team_id=TEAM_ID, bot_user_id=BOT_USER_ID,
                               bot_id=BOT_ID, bot_token=token)

    # No token and an `authorize=`: bolt never calls auth.test. (`token_verification_enabled`
    # exists only on the synchronous `App`; `AsyncApp` has no such argument.)
    bolt = AsyncApp(signing_secret=signing_secret, authorize=authorize)

    @bolt.event("app_mention")
    async def on_mention() -> None:
        return None

    async def route(request: web.Request) -> web.Response:
        bolt_request = await to_bolt_request(request)
        bolt_response = await bolt.async_dispatch(bolt_request)
        return await to_aiohttp_response(bolt_response)

    app = web.Application()
    app.router.add_post("/slack/events", route)
    app.router.add_get("/healthz", _ok)
    return app


async def _ok(_: web.Request) -> web.Response:
    return web.Response(text="ok")


def bare_app() -> web.Application:
    app = web.Application()
    app.router.add_post("/slack/events", _ok)
    app.router.add_get("/healthz", _ok)
    return app


def call_row(call: Any) -> list[Any]:
    """What the benchmark needs of one recorded call (a frontdoor_testkit.fake_slack.Call)."""
    params = call.params
    return [call.method, params.get("channel"), params.get("thread_ts"), call.at,
            params.get("text")]


def fake_control_app() -> tuple[web.Application, str]:
    from frontdoor_testkit.fake_slack import FakeSlack

    fake = FakeSlack()
    url = fake.start()

    async def calls(request: web.Request) -> web.Response:
        since = int(request.query.get("since", "0"))
        with fake._lock:  # the fake's own lock: its thread appends under it
            window = fake.calls[since:]
            rows = [call_row(c) for c in window]
        return web.json_response(rows)

    async def reset(_: web.Request) -> web.Response:
        fake.reset()
        return web.json_response({"ok": True})

    async def stop(_: web.Application) -> None:
        fake.stop()

    app = web.Application()
    app.router.add_get("/calls", calls)
    app.router.add_post("/reset", reset)
    app.router.add_get("/healthz", _ok)
    app.on_cleanup.append(stop)
    return app, url


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in {"bolt", "bare", "fake"} or not argv[1].isdigit():
        print("usage: python -m bench._slack_bench_apps {bolt|bare|fake} PORT", file=sys.stderr)
        return 2
    kind, port = argv[0], int(argv[1])
    if kind == "bolt":
        from frontdoor_testkit.slack_signing import BOT_TOKEN, SIGNING_SECRET

        app = bolt_app(SIGNING_SECRET, BOT_TOKEN)
    elif kind == "bare":
        app = bare_app()
    else:
        app, url = fake_control_app()
        print(url, flush=True)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None,
                handle_signals=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
