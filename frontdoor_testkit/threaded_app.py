"""An aiohttp app on its own event loop in a daemon thread: the fake peers of the tests
(Slack's Web API, the Bot Framework connector, an OpenID metadata server) run this way so
synchronous tests, async tests and server subprocesses can all reach them."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

from aiohttp import web


class ThreadedApp:
    def __init__(self, name: str) -> None:
        self.name = name
        self.loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def start(self, routes: Callable[[web.Application], None]) -> str:
        """Serve an app with `routes` on a free loopback port; returns "http://127.0.0.1:N"."""
        ready = threading.Event()
        base = ""

        def run() -> None:
            nonlocal base
            loop = asyncio.new_event_loop()
            self.loop = loop
            asyncio.set_event_loop(loop)
            app = web.Application()
            routes(app)
            runner = web.AppRunner(app, access_log=None)
            loop.run_until_complete(runner.setup())
            site = web.TCPSite(runner, "127.0.0.1", 0)
            loop.run_until_complete(site.start())
            base = f"http://127.0.0.1:{runner.addresses[0][1]}"
            ready.set()
            loop.run_forever()
            loop.run_until_complete(runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=run, name=self.name, daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError(f"{self.name} did not start")
        return base

    def stop(self) -> None:
        if self.loop is not None:
            self.loop.call_soon_threadsafe(self.loop.stop)
        if self._thread is not None:
            self._thread.join(10)
