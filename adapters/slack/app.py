"""The Slack front door: slack-bolt's AsyncApp on our aiohttp app, translating and rendering
only. Every decision is the conversation handler's (bot/).

Requests are authenticated before anything else (signature and timestamp). Events are kept
in the store's durable queue before Slack is told "ok" and worked from there by any worker,
once per event id, in order per conversation (adapters/slack/inbound.py); they skip bolt's
dispatch, which adds nothing for them once the request is verified and the token is known
to work. Interactions and commands go through bolt, acknowledged at once and worked after.
Everything we post goes through the durable outbox, in order per case.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.web.async_client import AsyncWebClient

from adapters.errors import PayloadError, SlackPayloadError
from adapters.slack import inbound, render, request_shapes, translate
from adapters.slack.actions import (
    INPUT_ACTION_ID,
    VIEW_CALLBACK_ID,
    ActionId,
    action_pattern,
)
from adapters.slack.delivery import SlackPost, outbox_item, remember
from adapters.slack.notices import notice_items
from bot.choice_ids import case_action, is_action_form, is_evidence_form, parse_choice
from bot.deployment import Directory
from bot.errors import FrontdoorError
from bot.group_commit import GroupedEnqueue
from bot.handler import Handler, conversation_key
from bot.identity import Identities, Recognised, Sender
from bot.messages import Form, Inbound, Notice, Outcome, Person, Place, Reply
from bot.records import OutboxItem
from bot.store.base import Store

log = logging.getLogger(__name__)
SHORTCUT_CALLBACK_ID = "file-support-case"
SLASH_COMMAND = "/support"
MAX_CONCURRENT_WORK = 32  # interactions worked at once after their ack, per process
# A signature is accepted while its timestamp is within 5 minutes of the clock, either way:
# remember a signed request for that long and a little more.
REPLAY_WINDOW_SECONDS = 2 * request_shapes.SIGNATURE_WINDOW_SECONDS + 60
# What this front door listens to; manifest.json must subscribe to exactly these (a test checks).
EVENTS = ("app_mention", "message", "reaction_added", "app_home_opened")
# A "message" subscription in the manifest is per kind of conversation.
MESSAGE_EVENT_KINDS = ("message.channels", "message.groups", "message.im")
COMMANDS = (SLASH_COMMAND,)
MESSAGE_SHORTCUTS = (SHORTCUT_CALLBACK_ID,)


class SlackFrontDoor:
    def __init__(self, *, bot_token: str, signing_secret: str, api_url: str, handler: Handler,
                 identities: Identities, store: Store, directory: Directory,
                 kick: Callable[[], None], ticket_emoji: str = "ticket") -> None:
        self.handler = handler
        self.identities = identities
        self.store = store
        self.directory = directory
        self.kick = kick
        self.ticket_emoji = ticket_emoji.strip(":")
        self._secret = signing_secret.encode()
        # One HTTP session for every Web API call (slack_sdk opens one per call otherwise).
        self.session = aiohttp.ClientSession()
        self.client = AsyncWebClient(token=bot_token, base_url=api_url, session=self.session)
        # Work after the ack is bounded: past this many, events queue here instead of piling
        # onto the store (backpressure rather than errors after Slack was told "ok").
        self._work = asyncio.Semaphore(MAX_CONCURRENT_WORK)
        self._kept = GroupedEnqueue(store)
        # Bolt sees only requests the route verified and re-serialised from their checked
        # shape (adapters/slack/request_shapes.py); Socket Mode's come over its own socket.
        self.app = AsyncApp(client=self.client, signing_secret=signing_secret,
                            process_before_response=False, request_verification_enabled=False)
        self._bot_user: str | None = None
        self._register()

    async def close(self) -> None:
        await self.session.close()

    # -- the HTTP route -------------------------------------------------------------------------

    async def route(self, request: web.Request) -> web.Response:
        """POST /slack/events: unsigned → 401 first; anything but what Slack sends (checked
        field by field, adapters/slack/request_shapes.py) → 400; a signed interaction or command
        seen before → 200 and nothing done; then the event queue, or bolt."""
        raw = await request.read()
        timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
        signature = request.headers.get("X-Slack-Signature", "")
        if not request_shapes.signed(self._secret, raw, timestamp, signature, time.time()):
            return web.json_response({"error": "invalid or missing Slack signature"},
                                     status=401)
        try:
            checked = request_shapes.parse_request(raw, request.headers.get("Content-Type", ""))
        except PayloadError as exc:
            log.info("refused a signed Slack request: %s", exc)
            return web.json_response({"error": f"unparseable Slack payload: {exc}"},
                                     status=400)
        if checked.kind == "event":
            if await self._ensure_bot_user() is None:  # never "ok" for an event not kept
                return web.json_response(
                    {"error": "the bot token could not be checked with Slack (auth.test); "
                              "try again"}, status=503)
            return await self._acknowledge_event(checked.content)
        if checked.kind == "url_verification":
            return web.json_response(checked.content)
        if checked.kind == "ignored":
            return web.Response(status=200)
        if not await self._first_time(signature):
            return web.Response(status=200)
        bolt_request = AsyncBoltRequest(body=checked.for_bolt, query=request.query_string,
                                        headers={"Content-Type": request_shapes.FORM})
        bolt_response = await self.app.async_dispatch(bolt_request)
        return await to_aiohttp_response(bolt_response)

    async def _first_time(self, signature: str) -> bool:
        """A signed interaction or slash command is worked once: the same signed request
        sent again (a replay) within the window its signature is accepted in is answered
        "ok" and nothing is done, across processes (the store's once-only claim)."""
        if await self.store.claim_once(f"slack-request:{signature}", REPLAY_WINDOW_SECONDS):
            return True
        log.warning("a signed Slack request was sent again: ignored")
        return False

    async def _acknowledge_event(self, body: Mapping[str, Any]) -> web.Response:
        """A verified event from a workspace whose token works: stored, then "ok". A store
        outage raises (→ 503), so Slack retries rather than being told "ok" for nothing."""
        try:
            await self.accept_event(body)
        except SlackPayloadError as exc:
            log.info("ignored a malformed event: %s", exc)
        return web.Response(status=200)

    async def accept_event(self, body: Mapping[str, Any]) -> None:
        """Keep a wanted event in the store's queue (once per event id: a retry of one kept
        already changes nothing) and wake the worker. Concurrent events share one write."""
        item = inbound.event_item(body, await self._ensure_bot_user(), self.ticket_emoji,
                                  _now())
        if item is None:
            return
        await self._kept.enqueue(item)
        self.kick()

    def event_worker(self) -> inbound.SlackEventWorker:
        """The deliverer that works this front door's stored events."""
        return inbound.SlackEventWorker(self.process_event, self.tell_not_worked)

    async def tell_not_worked(self, event: Mapping[str, Any]) -> None:
        """The person whose message could not be worked hears so (only they see it)."""
        user = event.get("user")
        try:
            where = translate.where_of(event)
        except SlackPayloadError:
            return
        await self._tell_privately(
            where.channel, user if isinstance(user, str) else None, where.thread,
            "Sorry — something went wrong on our side and your last message was not handled. "
            "Please send it again; if this keeps happening, contact "
            f"{self.directory.deployment.vendor.name} support another way.")

    async def process_event(self, event: Mapping[str, Any], team: str | None) -> None:
        """Work one stored event (any process may, once the queue leased it to it); `team`
        is the sender's workspace, as the request that brought it said."""
        kind = event.get("type")
        data = dict(event)
        if kind == "app_mention":
            await self._conversation_message(data, team, mention=True)
        elif kind == "message":
            await self._message(data, team)
        elif kind == "reaction_added":
            await self._reaction(data, team)
        elif kind == "app_home_opened":
            await self._on_home(data, team)

    # -- listeners ------------------------------------------------------------------------------

    def _register(self) -> None:
        app = self.app
        app.error(self._on_error)
        app.command(SLASH_COMMAND)(self._on_command)
        for name in EVENTS:  # Socket Mode's way in; over HTTP events skip bolt (route)
            app.event(name)(self._on_event)
        app.action(action_pattern(ActionId.CHOICE))(self._on_choice)
        app.action(action_pattern(ActionId.CASE))(self._on_choice)
        app.action(action_pattern(ActionId.OPEN_FORM))(self._on_open_form)
        app.view(VIEW_CALLBACK_ID)(self._on_view)
        app.action({"action_id": INPUT_ACTION_ID, "block_id": "case_type"})(
            self._on_case_type_picked)
        app.shortcut(SHORTCUT_CALLBACK_ID)(self._on_shortcut)

    async def _on_error(self, error: Exception, body: dict[str, Any]) -> None:
        if isinstance(error, PayloadError):  # what was sent, not a failure of ours
            log.info("ignored a malformed Slack %s: %s", body.get("type"), error)
            return
        log.error("slack listener failed: %s", type(error).__name__,
                  extra={"slack_type": body.get("type")}, exc_info=error)

    async def _recognise(self, user: str | None, team: str | None) -> Recognised:
        """Who this Slack user is (decided in bot.identity: in Slack Connect the sender's own
        team must be the one their organisation is registered with)."""
        return await self.identities.recognise(Sender("slack", (user,) if user else (), team))

    async def _person(self, user: str | None, team: str | None) -> Person | None:
        """The person, where a stranger is told nothing."""
        return (await self._recognise(user, team)).person

    async def _tell_privately(self, channel: str | None, user: str | None, thread: str | None,
                              text: str) -> None:
        """An ephemeral message only `user` sees, through the outbox."""
        if not channel or not user:
            return
        post = SlackPost(op="ephemeral", channel=channel, user=user, thread_ts=thread,
                         message=render.render_message(Reply(text)))
        await self._send([outbox_item(post, None)])

    # events (worked from the store's queue, see process_event)

    async def _on_event(self, body: dict[str, Any]) -> None:
        try:
            await self.accept_event(body)
        except SlackPayloadError as exc:
            log.info("ignored a malformed event: %s", exc)

    async def _message(self, event: dict[str, Any], team: str | None) -> None:
        """A message inbound.is_wanted let through (no edits, bots or channel mentions)."""
        channel = str(event.get("channel", ""))
        is_dm = event.get("channel_type") == "im"
        where = translate.where_of(event)
        if event.get("thread_ts"):
            case_id = await self._case_of_thread(channel, str(event["thread_ts"]))
            if case_id is not None:
                await self._case_thread(event, team, case_id)
                return
            if await self._conversation_exists(event, team, where):
                await self._conversation_message(event, team, mention=False)
            return
        if is_dm or channel in self._support_channels():
            await self._conversation_message(event, team, mention=False)

    async def _conversation_exists(self, event: dict[str, Any], team: str | None,
                                   where: translate.Where) -> bool:
        person = await self._person(event.get("user"), team)
        if person is None or where.channel is None:
            return False
        key = conversation_key(Inbound(person, Place("slack", where.channel, where.thread),
                                       datetime.now(UTC)))
        state, _ = await self.store.load_conversation(key)
        return state is not None

    def _support_channels(self) -> set[str]:
        deployment = self.directory.deployment
        out = {c for cust in deployment.customers.values() for c in cust.slack_channels}
        out |= {c for p in deployment.partners.values() for c in p.slack_channels}
        return out

    async def _ensure_bot_user(self) -> str | None:
        if self._bot_user is None:
            try:
                result = await self.client.auth_test()
                self._bot_user = str(result.get("user_id") or "") or None
            except Exception as exc:  # the mention simply isn't stripped
                log.warning("auth.test failed: %s", type(exc).__name__)
        return self._bot_user

    async def _conversation_message(self, event: dict[str, Any], team: str | None, *,
                                    mention: bool) -> None:
        user = event.get("user")
        where = translate.where_of(event)
        bot_user = await self._ensure_bot_user()
        who = await self._recognise(user, team)
        if who.person is None:
            await self._tell_privately(where.channel, user, where.thread, who.refusal)
            return
        person = who.person
        text = translate.text_of_message_event(event, bot_user)
        place = Place("slack", where.channel or "", where.thread)
        await self._run(Inbound(person, place, _now(), text=text or "hi"), place, user)

    async def _case_thread(self, event: dict[str, Any], team: str | None, case_id: str) -> None:
        user = event.get("user")
        person = await self._person(user, team)
        if person is None:
            return
        where = translate.where_of(event)
        place = Place("slack", where.channel or "", where.thread)
        text = translate.text_of_message_event(event, await self._ensure_bot_user())
        inbound = Inbound(person, place, _now(), text=text)
        try:
            outcome = await self.handler.case_thread_message(inbound, case_id)
        except FrontdoorError as exc:
            outcome = Outcome([Reply(str(exc), private=True)])
        await self._deliver(outcome, place, user)

    async def _reaction(self, event: dict[str, Any], team: str | None) -> None:
        """A ticket-emoji reaction (inbound.is_wanted lets no other through)."""
        item = event.get("item") or {}
        channel, ts = item.get("channel"), item.get("ts")
        if item.get("type") != "message" or not channel or not ts:
            return
        who = await self._recognise(event.get("user"), team)
        if who.person is None:
            await self._tell_privately(channel, event.get("user"), ts, who.refusal)
            return
        person = who.person
        history = await self.client.conversations_history(channel=channel, latest=ts,
                                                          inclusive=True, limit=1)
        messages = history.get("messages") or []
        original = translate.text_of_message_event(messages[0], await self._ensure_bot_user()) \
            if messages else ""
        link = await self._permalink(channel, ts)
        seed = f"{original}\n(from {link})" if link else original
        place = Place("slack", channel, ts)
        await self._run(Inbound(person, place, _now(), text=seed or "hi"), place,
                        event.get("user"))

    async def _permalink(self, channel: str, ts: str) -> str | None:
        try:
            result = await self.client.chat_getPermalink(channel=channel, message_ts=ts)
            return str(result.get("permalink") or "") or None
        except Exception as exc:
            log.info("no permalink: %s", type(exc).__name__)
            return None

    async def _on_home(self, event: dict[str, Any], team: str | None) -> None:
        if event.get("tab") not in (None, "home"):
            return
        user = event.get("user")
        person = await self._person(user, team)
        if person is None or not user:
            return
        rows = await self.handler.queue(person, _now())
        title = ("Queue — nearest due first, breached first" if person.is_vendor
                 else "Your organisation's open cases")
        view = render.render_home(person.name, [reply for _, reply in rows], title)
        await self.client.views_publish(user_id=user, view=view)

    # interactions

    async def _on_command(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        user = body.get("user_id")
        channel = str(body.get("channel_id", ""))
        text = str(body.get("text", "")).strip().lower()
        who = await self._recognise(user, translate.speaker_team(body))
        if who.person is None:
            await self._tell_privately(channel, user, None, who.refusal)
            return
        person = who.person
        if text in {"status", "help"}:
            place = Place("slack", channel, None)
            outcome = await self.handler.handle(Inbound(person, place, _now(), text=text))
            outcome.replies = [replace(r, private=True) for r in outcome.replies]
            await self._deliver(outcome, place, user)
            return
        form = self.handler.intake_form(person, _now(), description=text or None)
        if form is None:  # files for no customer
            await self._tell_privately(channel, user, None, self.identities.unknown_account)
            return
        place_channel, place_thread = await self._intake_home(channel, user, person)
        await self._open_modal(body.get("trigger_id"), form, place_channel, place_thread)

    async def _intake_home(self, channel: str, user: str | None,
                           person: Person) -> tuple[str, str | None]:
        """Where a modal-started conversation continues: the support channel (in a thread
        under a short anchor message) or the person's DM with the bot."""
        if channel in self._support_channels():
            anchor = await self.client.chat_postMessage(
                channel=channel, text=f"{person.name} is filing a support case.")
            return channel, str(anchor["ts"])
        opened = await self.client.conversations_open(users=user or "")
        return str(opened["channel"]["id"]), None

    async def _open_modal(self, trigger_id: object, form: Form, channel: str | None,
                          thread: str | None) -> None:
        if not trigger_id:
            return
        view = render.render_modal(form, render.metadata_for(form, channel, thread))
        await self.client.views_open(trigger_id=str(trigger_id), view=view)

    async def _on_shortcut(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        user = (body.get("user") or {}).get("id")
        who = await self._recognise(user, translate.speaker_team(body))
        message = body.get("message") or {}
        channel = str((body.get("channel") or {}).get("id", ""))
        if who.person is None:
            await self._tell_privately(channel, user, message.get("ts"), who.refusal)
            return
        person = who.person
        text = translate.text_of_message_event(message, await self._ensure_bot_user())
        link = await self._permalink(channel, str(message.get("ts", "")))
        description = f"{text}\n(from {link})" if link else text
        form = self.handler.intake_form(person, _now(), description=description)
        if form is None:
            return
        thread = str(message.get("thread_ts") or message.get("ts") or "") or None
        await self._open_modal(body.get("trigger_id"), form, channel, thread)

    async def _on_choice(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        async with self._work:
            await self._choice(body)

    async def _choice(self, body: dict[str, Any]) -> None:
        try:
            choice, _ = translate.choice_of_block_action(body)
        except SlackPayloadError as exc:
            log.info("ignored a malformed action: %s", exc)
            return
        user = (body.get("user") or {}).get("id")
        team = translate.speaker_team(body)
        who = await self._recognise(user, team)
        where = translate.where_of(body)
        if who.person is None:
            await self._tell_privately(where.channel, user, where.thread, who.refusal)
            return
        person = who.person
        place = Place("slack", where.channel or "", where.thread)
        if not where.channel:  # a button in App Home: continue in the person's DM
            opened = await self.client.conversations_open(users=user or "")
            place = Place("slack", str(opened["channel"]["id"]), None)
        outcome = await self.handler.handle(Inbound(person, place, _now(), choice=choice))
        form_reply = next((r for r in outcome.replies if r.form and is_action_form(r.form.id)),
                          None)
        if form_reply is not None and form_reply.form is not None and body.get("trigger_id"):
            await self._open_modal(body["trigger_id"], form_reply.form, place.conversation,
                                   place.thread)
            outcome.replies = [r for r in outcome.replies if r is not form_reply]
        await self._deliver(outcome, place, user)
        if person.is_vendor and body.get("view", {}).get("type") == "home":
            await self._on_home({"user": user, "tab": "home"}, team)

    async def _on_open_form(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        user = (body.get("user") or {}).get("id")
        who = await self._recognise(user, translate.speaker_team(body))
        where = translate.where_of(body)
        if who.person is None:
            await self._tell_privately(where.channel, user, where.thread, who.refusal)
            return
        try:
            form_id = translate.form_id_of_block_action(body)
        except SlackPayloadError as exc:
            log.info("ignored a malformed form button: %s", exc)
            return
        place = Place("slack", where.channel or "", where.thread)
        form, refused = await self._form_by_id(who.person, form_id, place)
        if form is not None:
            await self._open_modal(body.get("trigger_id"), form, where.channel, where.thread)
        elif refused is not None:  # no form for what the role may not do: say why, only to them
            await self._deliver(refused, place, user)

    async def _form_by_id(self, person: Person, form_id: str,
                          place: Place) -> tuple[Form | None, Outcome | None]:
        """The form a "fill in the form" button opens, or (for a case action) the handler's
        answer when it shows none — a refusal, checked and audited before any form."""
        if is_evidence_form(form_id):
            return self.handler.evidence.form_by_id(person, form_id), None
        if is_action_form(form_id):
            wanted = parse_choice(form_id)
            button = case_action(wanted.value, wanted.case_id or "")
            outcome = await self.handler.handle(
                Inbound(person, place, _now(), choice=str(button)))
            form = next((r.form for r in outcome.replies if r.form), None)
            return form, (None if form is not None else outcome)
        # the intake running here, as it stands: what the person said carried, open questions
        return await self.handler.conversation_form(person, place, _now()), None

    async def _on_case_type_picked(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        """The case type was chosen in the modal: reshape the form for it (its priority
        guidance, only the questions that type needs), keeping what was typed."""
        await ack()
        view = body.get("view") or {}
        try:
            metadata = translate.metadata_of_view(view)
            values = translate.form_values_of_view(view)
        except SlackPayloadError as exc:
            log.info("ignored a malformed modal change: %s", exc)
            return
        user = (body.get("user") or {}).get("id")
        person = await self._person(user, translate.speaker_team(body))
        if person is None or not view.get("id"):
            return
        form = self.handler.intake_form(person, _now(), customer_id=values.get("customer"),
                                        case_type=values.get("case_type"), values=values)
        if form is None:
            return
        await self.client.views_update(
            view_id=str(view["id"]), hash=view.get("hash"),
            view=render.render_modal(form, render.metadata_for(form, metadata.channel,
                                                               metadata.thread)))

    async def _on_view(self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        try:
            metadata = translate.metadata_of_view(view)
            values = translate.form_values_of_view(view)
        except SlackPayloadError as exc:
            await ack(response_action="errors", errors={"description": str(exc)[:150]})
            return
        user = (body.get("user") or {}).get("id")
        person = await self._person(user, translate.speaker_team(body))
        if person is None:
            await ack()
            return
        if metadata.form == "intake-customer":
            form = self.handler.intake_form(person, _now(), customer_id=values.get("customer"))
            if form is None:
                await ack(response_action="errors", errors={"customer": "Choose a customer."})
                return
            view_next = render.render_modal(form, render.metadata_for(
                form, metadata.channel, metadata.thread))
            await ack(response_action="update", view=view_next)
            return
        await ack()
        channel = metadata.channel
        if not channel:
            opened = await self.client.conversations_open(users=user or "")
            channel = str(opened["channel"]["id"])
        place = Place("slack", channel, metadata.thread)
        outcome = await self.handler.handle(Inbound(person, place, _now(), form=values))
        await self._deliver(outcome, place, user)

    # -- posting ------------------------------------------------------------------------------

    async def _run(self, inbound: Inbound, place: Place, user: str | None) -> None:
        outcome = await self.handler.handle(inbound)
        await self._deliver(outcome, place, user)

    async def _deliver(self, outcome: Outcome, place: Place, user: str | None) -> None:
        """Turn the handler's outcome into outbox items: replies where the person spoke (in
        order), notices to each audience's channel (in order per case)."""
        now = _now()
        items: list[OutboxItem] = []
        conv_key = f"slack:{place.conversation}:{place.thread or '-'}"
        is_dm = place.conversation.startswith("D")
        channels = self.directory.deployment.vendor.channels.get("slack")
        in_engineers_channel = bool(channels and place.conversation == channels.engineers)
        noticed = {n.case_id for n in outcome.notices if n.audience == "engineers"}
        for reply in render.joined_replies(outcome.replies):
            if in_engineers_channel and reply.card and reply.card.case_id in noticed \
                    and not reply.private:
                continue  # the engineers' card is updated and the news posted under it
            message = render.render_message(reply)
            if reply.private and not is_dm and user:
                post = SlackPost(op="ephemeral", channel=place.conversation, user=user,
                                 thread_ts=place.thread, message=message)
            elif reply.card is not None and not reply.fresh \
                    and await self._is_origin(reply.card.case_id, place):
                post = SlackPost(op="card", channel=place.conversation, thread_ts=place.thread,
                                 card_key=f"{reply.card.case_id}:customer", message=message)
            else:
                post = SlackPost(op="post", channel=place.conversation,
                                 thread_ts=place.thread, message=message)
            items.append(outbox_item(post, conv_key, now=now))
        for notice in outcome.notices:
            if notice.kind == "new_case" and place.thread and notice.audience == "engineers":
                await remember(self.store, f"slack-thread:{place.conversation}:{place.thread}",
                               {"case_id": notice.case_id})
            items += await self._notice_items(notice, now)
        await self._send(items)

    async def _is_origin(self, case_id: str, place: Place) -> bool:
        case = await self.store.get_case(case_id)
        return bool(case and case.origin and case.origin.platform == "slack"
                    and case.origin.conversation == place.conversation
                    and case.origin.thread == place.thread)

    async def _notice_items(self, notice: Notice, now: datetime) -> list[OutboxItem]:
        return await notice_items(self.store, self.directory, notice, now)

    async def _send(self, items: list[OutboxItem]) -> None:
        if items:
            await self.store.enqueue_outbox(items)
            self.kick()

    async def _case_of_thread(self, channel: str, thread: str) -> str | None:
        state, _ = await self.store.load_conversation(f"slack-thread:{channel}:{thread}")
        return str(state["case_id"]) if state and state.get("case_id") else None


def _now() -> datetime:
    return datetime.now(UTC)
