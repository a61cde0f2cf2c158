"""Sign a request body the way Slack does (v0 HMAC-SHA256 over "v0:{timestamp}:{body}")."""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNING_SECRET = "test-signing-secret-7f3a"
BOT_TOKEN = "xoxb-test-bot-token"


def signed_headers(body: str, secret: str = SIGNING_SECRET, timestamp: int | None = None,
                   content_type: str = "application/json") -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}",
            "Content-Type": content_type}
