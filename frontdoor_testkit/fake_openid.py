"""A local stand-in for the Bot Framework's OpenID metadata and signing keys, for tests.

Serves ``/.well-known/openidconfiguration`` (pointing at ``/keys``) and a JWKS with one RSA
key (endorsed for ``msteams``, as the real keys are), and mints tokens signed with that key,
shaped like the ones the Bot Framework sends to a bot. Runs in its own thread with its own
event loop: botbuilder fetches keys with a blocking call on the bot's loop.
"""

from __future__ import annotations

import json
import time
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from frontdoor_testkit.threaded_app import ThreadedApp

BOT_FRAMEWORK_ISSUER = "https://api.botframework.com"
KEY_ID = "frontdoor-test-key"


class FakeOpenId:
    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.url = ""  # the metadata URL, once started
        self.fetches = 0
        self._server = ThreadedApp("fake-openid")

    def token(self, *, audience: str, service_url: str, issuer: str = BOT_FRAMEWORK_ISSUER,
              lifetime: float = 3600.0, issued_ago: float = 60.0, key_id: str = KEY_ID,
              foreign_key: bool = False, **claims: Any) -> str:
        """A Bot Framework style channel token (``Bearer`` not included)."""
        now = int(time.time())
        payload: dict[str, Any] = {
            "iss": issuer, "aud": audience, "serviceurl": service_url,
            "nbf": now - int(issued_ago), "iat": now - int(issued_ago),
            "exp": now - int(issued_ago) + int(lifetime), **claims,
        }
        key = self.other_key if foreign_key else self.key
        return jwt.encode(payload, key, algorithm="RS256", headers={"kid": key_id})

    def _jwks(self) -> dict[str, Any]:
        jwk = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        jwk.update({"kid": KEY_ID, "use": "sig", "alg": "RS256", "endorsements": ["msteams"]})
        return {"keys": [jwk]}

    def start(self) -> str:
        async def metadata(request: web.Request) -> web.Response:
            self.fetches += 1
            base = f"http://{request.host}"
            return web.json_response({
                "issuer": BOT_FRAMEWORK_ISSUER,
                "authorization_endpoint": f"{base}/authorize",
                "jwks_uri": f"{base}/keys",
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            })

        async def keys(_: web.Request) -> web.Response:
            return web.json_response(self._jwks())

        def routes(app: web.Application) -> None:
            app.router.add_get("/.well-known/openidconfiguration", metadata)
            app.router.add_get("/keys", keys)

        self.url = self._server.start(routes) + "/.well-known/openidconfiguration"
        return self.url

    def stop(self) -> None:
        self._server.stop()
