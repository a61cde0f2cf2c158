"""Test support: the fakes and harnesses the tests and the benches share.

Fake platforms to talk to over real HTTP (`fake_slack`, `fake_bot_framework`, `fake_openid`,
with `fake_failures` scripting their refusals and `threaded_app` running them beside a test),
the product as real processes (`server_process`, `sched_harness`'s `WorkerProcess`, a
`redis_server` of their own), and what a platform's client would send (`slack_signing`,
`teams_client`). A package of its own, not part of `tests`, so that `bench/` can use it
without importing the test suite; nothing in `policy`, `bot` or `adapters` imports it
(tests/test_imports.py).
"""
