"""The report reaches people where they work: on the first business day each customer's admins
get last month's report (Slack: the PDF in their DM; Teams: a card with a signed link; the web
chat: its feed), the vendor's admins the summary; engineers and admins ask for any report in
chat; `frontdoor report` writes any format; the evidence part of the store on both backends."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from adapters.bulletins import BulletinFanout
from adapters.evidence_wiring import link_is_valid, signed_link
from adapters.settings import Settings
from adapters.slack import wiring as slack_wiring
from adapters.slack.bulletins import SlackBulletinDeliverer, slack_posts
from adapters.teams.bulletins import teams_card
from bot.bulletins import VENDOR_ADMINS, admins_audience, audiences_of
from bot.evidence_records import BulletinRecord, ProbeResult, ServiceWindowRecord
from bot.handler import Handler
from bot.messages import Inbound, Place
from bot.reports.monthly import first_business_instant, monthly_due
from bot.store.base import Store
from frontdoor_testkit.fake_slack import FakeSlack
from tests.evidence_month import CPH, DIRECTORY, NY, at, play


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    fake = FakeSlack()
    fake.start()
    yield fake
    fake.stop()


def test_the_first_business_day_is_the_customer_plan_calendar_s() -> None:
    """Acme (US holidays): 1 Jan 2027 is New Year's Day, so its January report comes Mon 4
    Jan at 08:00 New York; Nordlys's December report on Tue 1 Dec 08:00 Copenhagen."""
    assert first_business_instant(DIRECTORY, "acme", at(NY, 2, 12, month=1).replace(
        year=2027)) == datetime(2027, 1, 4, 8, 0, tzinfo=NY)
    assert first_business_instant(DIRECTORY, "nordlys", at(CPH, 5, 12, month=12)) == \
        at(CPH, 1, 8, month=12)


async def test_last_month_s_reports_are_published_once_on_the_first_business_day(
        store: Store) -> None:
    await play(store)
    # 07:59 in New York: Globex (08:00 in São Paulo has come), Umbrella and Nordlys are open
    assert await monthly_due(store, DIRECTORY, at(NY, 1, 7, 59, month=12)) == 3
    published = await monthly_due(store, DIRECTORY, at(NY, 1, 9, 30, month=12))
    assert published == 3  # Acme (08:00 New York), Initech (08:00 Chicago), the summary
    assert await monthly_due(store, DIRECTORY, at(NY, 2, 9, 30, month=12)) == 0  # once
    [acme] = await store.bulletins([admins_audience("acme")])
    assert acme.id == "report:acme:2026-11" and acme.link == "/reports/acme/2026-11.html"
    assert acme.text.startswith("SLA report — Acme Corp — November 2026")
    assert "Response 2 of 3 met (66.7 %)" in acme.text
    [summary] = await store.bulletins([VENDOR_ADMINS])
    assert "• Nordlys Energi: 2 opened, 1 breaches" in summary.text


async def test_slack_admins_get_the_pdf_in_their_dm(store: Store, slack: FakeSlack) -> None:
    await play(store)
    await monthly_due(store, DIRECTORY, at(NY, 1, 9, 30, month=12))
    [bulletin] = await store.bulletins([admins_audience("acme")])
    [post] = slack_posts(DIRECTORY, bulletin)
    assert (post.user, post.report, post.period) == ("U0ALICE", "customer", "2026-11")
    client = AsyncWebClient(token="xoxb-test", base_url=slack.url)
    deliverer = SlackBulletinDeliverer(client, store, DIRECTORY)
    from bot.outbox import new_item

    outcome = await deliverer.deliver(new_item("slack-bulletin", post.model_dump(mode="json"),
                                               None))
    assert outcome.kind == "ok", outcome.reason
    [opened] = slack.of("conversations.open")
    assert opened.params["users"] == "U0ALICE"
    [done] = slack.of("files.completeUploadExternal")
    assert done.params["channel_id"] == "D0ALICE"
    assert "SLA report — Acme Corp" in str(done.params.get("initial_comment"))
    [pdf] = slack.uploads.values()
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000


async def test_the_fan_out_makes_one_item_per_place(store: Store) -> None:
    settings = Settings(slack_bot_token="xoxb-test", frontdoor_teams_emulator=False)
    bulletin = BulletinRecord(id="MW-1:maintenance", audience="customer:nordlys",
                              at=datetime(2026, 11, 9, tzinfo=UTC), kind="maintenance",
                              text="🛠 Planned maintenance MW-1")
    from bot.outbox import new_item

    item = new_item("bulletin", bulletin.model_dump(mode="json"), None, key="bulletin:MW-1")
    places = slack_wiring.bulletin_places(settings, DIRECTORY)
    assert places is not None
    assert (await BulletinFanout(store, [places]).deliver(item)).kind == "ok"
    assert (await BulletinFanout(store, [places]).deliver(item)).kind == "ok"
    pending = await store.claim_outbox(datetime.now(UTC) + timedelta(minutes=1), 10, 30, "t")
    assert [(i.platform, i.payload["channel"]) for i in pending] == [
        ("slack-bulletin", "C0NORDLYS")]  # once, whatever the retries


def test_teams_gets_a_card_with_a_signed_link() -> None:
    settings = Settings(frontdoor_public_url="https://support.example.com",
                        frontdoor_report_secret="s3cret")
    link = signed_link(settings, "/reports/acme/2026-11.html", now=1_000_000)
    assert link is not None and link.startswith("https://support.example.com/reports/acme/")
    card = teams_card("SLA report — Acme\n• 4 cases", link)
    action = card["attachments"][0]["content"]["actions"][0]
    assert (action["type"], action["url"]) == ("Action.OpenUrl", link)
    query = dict(p.split("=") for p in link.split("?")[1].split("&"))
    assert link_is_valid(settings, "/reports/acme/2026-11.html", query["expires"],
                         query["sig"], now=1_000_001)
    assert not link_is_valid(settings, "/reports/globex/2026-11.html", query["expires"],
                             query["sig"], now=1_000_001)
    assert not link_is_valid(settings, "/reports/acme/2026-11.html", query["expires"],
                             query["sig"], now=10_000_000_000)
    assert signed_link(Settings(), "/reports/acme/2026-11.html") is None


async def test_engineers_and_admins_ask_for_any_report_in_chat(store: Store) -> None:
    await play(store)
    handler = Handler(store, DIRECTORY)

    async def say(user: str, text: str) -> str:
        person = DIRECTORY.person(user)
        assert person is not None
        out = await handler.handle(Inbound(person, Place("web", f"web:{user}"),
                                           at(NY, 3, 9, month=12), text=text))
        return out.replies[0].text

    acme = await say("ana", "report ACME 2026-11")
    assert acme.startswith("SLA report — Acme Corp — November 2026")
    assert "Full report: /reports/acme/2026-11.html" in acme
    assert "availability nordlys-prod: 98.503 % — missed" in await say("olivia",
                                                                     "report nordlys")
    assert (await say("ben", "report all 2026-11")).startswith("SLA summary — all customers")
    assert (await say("alice", "report")).startswith("SLA report — Acme Corp")  # her admin
    assert "Reports are for the customer's admins" in await say("alice", "report NORD")
    assert "Reports are for the customer's admins" in await say("adam", "report ACME")
    assert "not a month" in await say("ana", "report ACME 2026-13")
    # "report a bug" is the intake's, not a report
    assert "SLA report" not in await say("adam", "report a bug")


def test_bulletin_audiences_follow_roles() -> None:
    customers = list(DIRECTORY.deployment.customers)
    assert audiences_of(DIRECTORY.person("adam"), customers) == ["customer:acme"]  # type: ignore[arg-type]
    assert audiences_of(DIRECTORY.person("alice"), customers) == [  # type: ignore[arg-type]
        "customer:acme", "customer-admins:acme"]
    assert VENDOR_ADMINS in audiences_of(DIRECTORY.person("olivia"), customers)  # type: ignore[arg-type]
    assert VENDOR_ADMINS not in audiences_of(DIRECTORY.person("ana"), customers)  # type: ignore[arg-type]


def test_frontdoor_report_writes_every_format(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    import asyncio

    from adapters.cli import main
    from bot.store.sqlite import SqliteStore

    db = tmp_path / "month.db"

    async def month() -> None:
        store = SqliteStore(db)
        await store.open()
        await play(store)
        await store.close()

    asyncio.run(month())
    monkeypatch.setenv("FRONTDOOR_DB", str(db))
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    for fmt in ("html", "pdf", "csv", "json"):
        assert main(["report", "--customer", "ACME", "--month", "2026-11", "--format", fmt,
                     "--at", "2026-12-01T12:00:00+00:00"]) == 0
        written = json.loads(capsys.readouterr().out)
        assert written["written"] == f"sla-report-acme-2026-11.{fmt}"
    assert (tmp_path / "sla-report-acme-2026-11.pdf").read_bytes().startswith(b"%PDF")
    assert main(["report", "--customer", "NORD", "--from", "2026-11-02", "--to", "2026-11-06",
                 "--format", "json", "--output", "-", "--at", "2026-12-01T12:00:00Z"]) == 0
    week = json.loads(capsys.readouterr().out)
    assert week["period"]["key"] == "2026-11-02..2026-11-06"
    assert week["availability"][0]["result"]["counted"] == 480  # 5 days × 96
    assert main(["report", "--customer", "all", "--month", "2026-11", "--format", "pdf"]) == 2
    assert "html or json" in capsys.readouterr().err
    assert main(["report", "--customer", "pluto", "--month", "2026-11"]) == 2
    assert "no customer 'pluto'" in capsys.readouterr().err


# -- the store's evidence part, on both backends --------------------------------------------------


async def test_store_reads_case_histories_in_batches(store: Store) -> None:
    await play(store)
    since = at(NY, 1, 0)
    seen = [(c.id, len(events)) async for batch in store.case_histories(["acme"], since)
            for c, events in batch]
    assert [cid for cid, _ in seen] == ["ACME-1", "ACME-2", "ACME-3", "ACME-4"]
    assert all(n >= 1 for _, n in seen)
    later = [c.id async for batch in store.case_histories(None, at(NY, 20, 0))
             for c, _ in batch]
    assert later == ["ACME-3", "ACME-4"]  # and no open case from before (ACME-4 is open)


async def test_store_keeps_service_windows_probes_and_bulletins(store: Store) -> None:
    window = ServiceWindowRecord(id="MW-9", customer_id="nordlys", deployment="nordlys-prod",
                                 starts_at=at(CPH, 12, 14), ends_at=at(CPH, 12, 15),
                                 reason="patches", announced_at=at(CPH, 11, 10),
                                 announced_by="ana")
    await store.put_service_window(window)
    await store.put_service_window(window.model_copy(update={"reason": "patches v2"}))
    assert [w.reason for w in await store.service_windows(["nordlys"])] == ["patches v2"]
    assert await store.service_windows(["acme"]) == []
    assert await store.service_windows(ending_after=at(CPH, 12, 15)) == []

    start = datetime(2026, 11, 3, 8, 0, tzinfo=UTC)
    results = [ProbeResult(at=start + timedelta(minutes=5 * i), up=i % 7 != 3)
               for i in range(400)]  # spans two UTC days
    await store.record_probes("nordlys/nordlys-prod", results)
    back = await store.probe_results("nordlys/nordlys-prod", start, start + timedelta(days=2))
    assert [(r.at, r.up) for r in back] == [(r.at, r.up) for r in results]
    part = await store.probe_results("nordlys/nordlys-prod", start + timedelta(minutes=10),
                                     start + timedelta(minutes=20))
    assert [r.at for r in part] == [start + timedelta(minutes=10), start +
                                    timedelta(minutes=15)]

    bulletin = BulletinRecord(id="b1", audience="customer:acme", at=at(NY, 1, 9, month=12),
                              kind="report", text="hello")
    assert await store.add_bulletin(bulletin)
    assert not await store.add_bulletin(bulletin.model_copy(update={"text": "again"}))
    assert [b.text for b in await store.bulletins(["customer:acme", "vendor-admins"])] == [
        "hello"]
    assert await store.bulletins(["customer:acme"], since=at(NY, 1, 9, month=12)) == []


# -- reports over HTTP, from a real `frontdoor serve` ---------------------------------------------


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    import asyncio

    from bot.store.sqlite import SqliteStore
    from frontdoor_testkit.server_process import ServerProcess

    tmp = tmp_path_factory.mktemp("reports")

    async def month() -> None:
        store = SqliteStore(tmp / "frontdoor.db")
        await store.open()
        await play(store)
        await store.close()

    asyncio.run(month())
    proc = ServerProcess({"FRONTDOOR_DB": str(tmp / "frontdoor.db"),
                          "FRONTDOOR_PUBLIC_URL": "http://127.0.0.1",
                          "FRONTDOOR_REPORT_SECRET": "test-secret"}, tmp / "server.log")
    yield proc
    proc.stop()


def _fetch(url: str) -> tuple[int, bytes, str]:
    import urllib.error
    import urllib.request

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=30) as response:
            return response.status, response.read(), response.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), exc.headers.get("Content-Type", "")


def test_a_signed_link_serves_the_report_and_nothing_else(served: object) -> None:
    base = served.url  # type: ignore[attr-defined]
    settings = Settings(frontdoor_public_url=base, frontdoor_report_secret="test-secret")
    link = signed_link(settings, "/reports/acme/2026-11.pdf")
    assert link is not None
    status, body, ctype = _fetch(link)
    assert (status, ctype) == (200, "application/pdf") and body.startswith(b"%PDF")
    status, body, _ = _fetch(link.replace("/acme/", "/globex/"))
    assert status == 403 and b"not valid" in body
    status, body, _ = _fetch(f"{base}/reports/acme/2026-11.html")
    assert status == 403


def test_the_web_chat_serves_reports_to_admins_and_engineers(served: object) -> None:
    base = served.url  # type: ignore[attr-defined]
    status, body, ctype = _fetch(f"{base}/chat/reports/acme/2026-11.html?user=alice")
    assert status == 200 and ctype.startswith("text/html")
    assert "SLA report — Acme Corp — November 2026" in body.decode()
    assert _fetch(f"{base}/chat/reports/acme/2026-11.csv?user=ana")[0] == 200
    assert _fetch(f"{base}/chat/reports/all/2026-11.html?user=olivia")[0] == 200
    assert _fetch(f"{base}/chat/reports/acme/2026-11.html?user=adam")[0] == 403
    assert _fetch(f"{base}/chat/reports/all/2026-11.html?user=alice")[0] == 403
    assert _fetch(f"{base}/chat/reports/acme/2026-11.docx?user=ana")[0] == 404


def test_the_web_chat_feed_shows_maintenance_to_the_customer(served: object) -> None:
    status, body = served.get("/chat/feed?user=nils")  # type: ignore[attr-defined]
    assert status == 200
    texts = [i["text"] for i in body["items"] if not i["case_id"]]
    assert any(t.startswith("🛠 Planned maintenance MW-1 on nordlys-prod") for t in texts)
    status, body = served.get("/chat/feed?user=alice")  # type: ignore[attr-defined]
    assert not any("MW-1" in i["text"] for i in body["items"])


async def test_months_before_the_first_case_are_not_reported(store: Store) -> None:
    """A store whose first case came after November has no November report to send."""
    assert await store.first_case_at() is None
    assert await monthly_due(store, DIRECTORY, at(NY, 1, 9, 30, month=12)) == 0
    handler = Handler(store, DIRECTORY)
    person = DIRECTORY.person("alice")
    assert person is not None
    await handler.handle(Inbound(person, Place("web", "web:alice"), at(NY, 1, 9, month=12),
                                 text="P2 the orders API in acme-prod fails after a restart"))
    await handler.handle(Inbound(person, Place("web", "web:alice"), at(NY, 1, 9, month=12),
                                 choice="confirm:open"))
    assert await store.first_case_at() == at(NY, 1, 9, month=12)
    assert await monthly_due(store, DIRECTORY, at(NY, 1, 9, 30, month=12)) == 0
