"""The health probe's request: a GET of the deployment's URL; up when it answers below 400
within the timeout (redirects followed). Anything else — a 4xx/5xx, a timeout, a refused
connection, a TLS error — is down."""

from __future__ import annotations

import aiohttp


async def http_check(url: str, timeout_seconds: float) -> bool:
    timeout = aiohttp.ClientTimeout(total=timeout_seconds)
    try:
        async with aiohttp.ClientSession(timeout=timeout) as session, \
                session.get(url, allow_redirects=True) as response:
            return response.status < 400
    except (TimeoutError, aiohttp.ClientError, OSError):
        return False
