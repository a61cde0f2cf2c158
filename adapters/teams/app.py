"""The Teams front door: botbuilder's `CloudAdapter` on our aiohttp app at
``POST /api/messages``, translating and rendering only. Every decision is the conversation
handler's (bot/).

A request is authenticated before anything else: with ``MICROSOFT_APP_ID`` set, every POST
must carry a Bot Framework token (signed by a key from the Bot Framework's OpenID metadata,
for this app id, issued by the Bot Framework, for the activity's service URL) or it gets 401 —
whatever the reason, never a 500, and nothing is done. Without an app id the bot runs in local
(emulator) mode, unauthenticated, and says so at start-up; that mode is off unless allowed
(``FRONTDOOR_TEAMS_EMULATOR``, default: on where the demo web chat is on).

Tenants map to customers and partners through the deployment file (bot.identity decides who
a sender is); someone from a tenant the deployment doesn't know gets one polite sentence and
nothing else. The turn is kept short: the handler's replies and notices go into the durable
outbox, and `TeamsDeliverer` posts them proactively with the conversation reference stored as
each message arrives.

Buttons are ``Action.Submit`` (message activities), not ``Action.Execute``. The one invoke
path — the message action "File a support case" (``composeExtension/fetchTask`` and
``/submitAction``) — writes its invoke response itself: 4.17.1's `CloudAdapter.process`
serialises an invoke body twice and answers 500.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from aiohttp import web
from botbuilder.core import InvokeResponse, TurnContext
from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
)
from botbuilder.schema import Activity, ActivityTypes
from botframework.connector.auth import (
    AppCredentials,
    AuthenticationConstants,
    ChannelValidation,
    JwtTokenExtractor,
    ServiceClientCredentialsFactory,
)
from requests import RequestException

from adapters.errors import HostileInputError, TeamsPayloadError
from adapters.http_guard import parse_json
from adapters.teams import render, translate
from adapters.teams.delivery import (
    PERSONAL_PREFIX,
    THREAD_PREFIX,
    TeamsDeliverer,
    TeamsPost,
    outbox_item,
    reachable,
    recall,
    remember,
    remember_reference,
)
from adapters.teams.notices import conversation_tenants, notice_items
from bot.deployment import Directory
from bot.errors import ConfigError, FrontdoorError
from bot.handler import Handler, conversation_key
from bot.identity import Identities, Recognised, Sender
from bot.intake import norm
from bot.messages import Form, FormField, Inbound, Outcome, Person, Place, Reply
from bot.records import OutboxItem
from bot.store.base import Store

log = logging.getLogger(__name__)
ACTIVITY_DEDUPE_SECONDS = 6 * 3600
KEY_REFRESH_SECONDS = 3600  # the SDK refetches keys older than a day, inline: stay ahead
TEST_OUTBOUND_TOKEN = "frontdoor-test-outbound-token"  # a test fixture, not a secret
Mode = Literal["authenticated", "emulator", "off"]
_JWT = re.compile(r"[A-Za-z0-9_-]{1,4096}\.[A-Za-z0-9_-]{1,8192}\.[A-Za-z0-9_-]{0,4096}")


@dataclass(frozen=True, slots=True)
class TeamsConfig:
    app_id: str = ""
    app_password: str = ""
    app_tenant_id: str = ""  # the app registration's tenant: the vendor's own
    app_type: str = "MultiTenant"
    emulator: bool = False  # without an app id, accept unauthenticated requests
    fallback_service_url: str | None = None  # for conversations no message came from yet
    test_openid_url: str | None = None  # TEST ONLY: local OpenID metadata, fixed out token


class BotConfig:
    """The attribute names `ConfigurationBotFrameworkAuthentication` reads."""

    def __init__(self, config: TeamsConfig) -> None:
        self.APP_ID = config.app_id
        self.APP_PASSWORD = config.app_password
        self.APP_TYPE = config.app_type
        self.APP_TENANTID = config.app_tenant_id


class _FixedTokenCredentials(AppCredentials):  # type: ignore[misc]  # botbuilder is untyped
    """TEST ONLY: outbound calls carry a fixed bearer token instead of one from Azure AD."""

    def get_access_token(self, force_refresh: bool = False) -> str:
        return TEST_OUTBOUND_TOKEN


class FixedTokenCredentialFactory(ServiceClientCredentialsFactory):  # type: ignore[misc]
    """TEST ONLY: the credentials factory used with `TeamsConfig.test_openid_url`."""

    def __init__(self, app_id: str) -> None:
        self.app_id = app_id

    async def is_valid_app_id(self, app_id: str) -> bool:
        return app_id == self.app_id

    async def is_authentication_disabled(self) -> bool:
        return not self.app_id

    async def create_credentials(self, app_id: str, oauth_scope: str, login_endpoint: str,
                                 validate_authority: bool) -> AppCredentials:
        return _FixedTokenCredentials(app_id=app_id, oauth_scope=oauth_scope)


def _now() -> datetime:
    return datetime.now(UTC)


class TeamsFrontDoor:
    def __init__(self, *, config: TeamsConfig, handler: Handler, identities: Identities,
                 store: Store, directory: Directory, kick: Callable[[], None]) -> None:
        self.config = config
        self.handler = handler
        self.identities = identities
        self.store = store
        self.directory = directory
        self.kick = kick
        self.mode: Mode = "authenticated" if config.app_id else (
            "emulator" if config.emulator else "off")
        credentials: ServiceClientCredentialsFactory | None = None
        if config.test_openid_url:
            ChannelValidation.open_id_metadata_endpoint = config.test_openid_url
            credentials = FixedTokenCredentialFactory(config.app_id)
        try:
            self.auth = ConfigurationBotFrameworkAuthentication(
                BotConfig(config), credentials_factory=credentials)
        except Exception as exc:  # the SDK raises bare Exceptions naming its own keys
            raise ConfigError(f"Teams settings (MICROSOFT_APP_*): {exc}") from None
        self.adapter = CloudAdapter(self.auth)
        self.adapter.on_turn_error = self._on_turn_error
        self.deliverer = TeamsDeliverer(
            self.adapter, store, config.app_id, config.fallback_service_url,
            conversation_tenants(directory, config.app_tenant_id or None))
        self._keys_task: asyncio.Task[None] | None = None

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        if self.mode == "authenticated":
            log.info("teams front door on: every request needs a Bot Framework token",
                     extra={"app_type": self.config.app_type,
                            "test_openid": bool(self.config.test_openid_url)})
            self._keys_task = asyncio.create_task(self._keep_keys_fresh())
        elif self.mode == "emulator":
            log.warning("teams front door in local emulator mode: MICROSOFT_APP_ID is not set, "
                        "so requests to /api/messages are NOT authenticated; anyone who can "
                        "reach it can claim any identity. Set MICROSOFT_APP_ID and "
                        "MICROSOFT_APP_PASSWORD for Teams.")
        else:
            log.info("teams front door off: set MICROSOFT_APP_ID (or FRONTDOOR_TEAMS_EMULATOR "
                     "for local testing)")
        if not self.config.app_tenant_id and self.mode == "authenticated":
            log.warning("MICROSOFT_APP_TENANT_ID is not set: the vendor's own tenant is unknown, "
                        "so the vendor's engineers and admins are not recognised in Teams. Set "
                        "it to the tenant the bot is registered in.")

    async def close(self) -> None:
        if self._keys_task is not None:
            self._keys_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._keys_task

    async def _keep_keys_fresh(self) -> None:
        """Fetch the Bot Framework signing keys in a thread, now and every hour: the SDK
        would fetch them (when a day old) with a blocking call on the event loop, and never
        refetches for a key id it doesn't know (4.17.1 raises IndexError first)."""
        url = ChannelValidation.open_id_metadata_endpoint or \
            AuthenticationConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL
        metadata = JwtTokenExtractor.get_open_id_metadata(url)
        while True:
            try:
                await asyncio.to_thread(lambda: asyncio.run(metadata._refresh()))
                log.info("bot framework signing keys fetched", extra={"keys": len(metadata.keys)})
                await asyncio.sleep(KEY_REFRESH_SECONDS)
            except Exception as exc:  # unreachable, or not OpenID metadata: try again soon
                log.warning("could not fetch the Bot Framework signing keys: %s",
                            type(exc).__name__)
                await asyncio.sleep(60)

    # -- the HTTP route -------------------------------------------------------------------------

    async def route(self, request: web.Request) -> web.StreamResponse:
        """POST /api/messages: unauthenticated → 401 first; unparseable → 400; then the turn."""
        if self.mode == "off":
            return web.json_response({"error": "Teams is not configured on this server "
                                      "(MICROSOFT_APP_ID, MICROSOFT_APP_PASSWORD)"}, status=503)
        header = request.headers.get("Authorization", "") if self.mode == "authenticated" \
            else ""
        if self.mode == "authenticated" and not _bearer(header):
            return _refuse()
        if "application/json" not in request.headers.get("Content-Type", ""):
            return web.json_response({"error": "send the activity as application/json"},
                                     status=415)
        try:
            body = parse_json(await request.read(), "the activity")
        except HostileInputError as exc:
            return web.json_response({"error": f"the body is not a Bot Framework activity: "
                                               f"{exc}"}, status=400)
        try:
            if not isinstance(body, dict):
                raise ValueError("not an object")
            activity = Activity().deserialize(body)
        except Exception:  # msrest deserialisation: not an activity
            return web.json_response({"error": "the body is not a Bot Framework activity"},
                                     status=400)
        if not activity.type:
            return web.json_response({"error": "the activity has no type"}, status=400)
        try:
            authenticated = await self.auth.authenticate_request(activity, header)
        except RequestException as exc:
            log.error("cannot check Bot Framework tokens: the signing keys are unreachable "
                      "(%s)", type(exc).__name__)
            return web.json_response({"error": "cannot verify the token right now"},
                                     status=503)
        except Exception as exc:  # PermissionError, PyJWT errors, lookups in the SDK …
            log.info("teams request refused: %s", type(exc).__name__)
            return _refuse()
        if not await self._first_time(body):
            return web.Response(status=200)

        async def turn(context: TurnContext) -> None:
            await self._turn(context, body)

        invoke = await self.adapter.process_activity(authenticated, activity, turn)
        if invoke is not None:
            payload = invoke.body if invoke.body is not None else {}
            return web.json_response(payload, status=invoke.status or 200)
        return web.Response(status=200)

    async def _first_time(self, body: dict[str, Any]) -> bool:
        """Bot Framework may deliver an activity again: handle each once, across workers."""
        activity_id = body.get("id")
        if not isinstance(activity_id, str) or not activity_id or \
                body.get("type") not in ("message", "invoke"):
            return True
        conversation = body.get("conversation")
        conversation = str(conversation.get("id", "")) if isinstance(conversation, dict) else ""
        return await self.store.claim_once(f"teams-activity:{conversation}:{activity_id}",
                                           ACTIVITY_DEDUPE_SECONDS)

    async def _on_turn_error(self, context: TurnContext, error: Exception) -> None:
        """A bug or an unavailable store: logged with its trace, and the person is told."""
        log.error("teams turn failed: %s", type(error).__name__, exc_info=error)
        if getattr(context.activity, "type", None) == ActivityTypes.message:
            await self._say_in_turn(context, "Sorry — something went wrong on our side. "
                                    "Please send that again in a minute.")

    # -- turns ----------------------------------------------------------------------------------

    async def _turn(self, context: TurnContext, body: dict[str, Any]) -> None:
        try:
            kind = translate.activity_type(body)
            if kind == ActivityTypes.message:
                await self._on_message(context, body)
            elif kind == ActivityTypes.invoke:
                await self._on_invoke(context, body)
            elif kind in (ActivityTypes.conversation_update, ActivityTypes.installation_update):
                await self._on_installed(context, body)
        except TeamsPayloadError as exc:
            log.info("ignored a malformed Teams activity: %s", exc)
            if body.get("type") == ActivityTypes.invoke:  # an invoke must be answered: 400
                await context.send_activity(Activity(
                    type=ActivityTypes.invoke_response,
                    value=InvokeResponse(status=400, body={"error": str(exc)[:200]})))

    async def _on_installed(self, context: TurnContext, body: dict[str, Any]) -> None:
        """Added to a team or chat: keep the reference, so notices can be posted there."""
        where = translate.where_of(body)
        if self.identities.serves(self._sender(body, where)):
            await remember_reference(self.store, TurnContext.get_conversation_reference(
                context.activity))

    def _sender(self, body: dict[str, Any], where: translate.Where) -> Sender:
        """What this activity says about who sent it. The emulator sends no tenant: locally,
        it isn't asked for one."""
        speaker = translate.speaker_of(body)
        return Sender("teams", speaker.ids if speaker else (), where.tenant,
                      local=self.mode == "emulator")

    async def _identify(self, body: dict[str, Any], where: translate.Where) -> Recognised:
        """The person, or the one sentence to answer a stranger with (bot.identity decides:
        a person's organisation's tenant must be the one they speak from, and a tenant the
        deployment doesn't serve is refused)."""
        return await self.identities.recognise(self._sender(body, where))

    async def _say_in_turn(self, context: TurnContext, text: str) -> None:
        """Answer a stranger right away (nothing is stored for them); a failure is logged."""
        try:
            await context.send_activity(Activity(type=ActivityTypes.message, text=text))
        except Exception as exc:
            log.warning("teams reply to a stranger failed: %s", type(exc).__name__)

    async def _remember(self, context: TurnContext, where: translate.Where,
                        person: Person) -> None:
        await remember_reference(self.store, TurnContext.get_conversation_reference(
            context.activity))
        if where.kind == "personal":
            await remember(self.store, PERSONAL_PREFIX + person.id,
                           {"conversation": where.conversation_id})

    async def _on_message(self, context: TurnContext, body: dict[str, Any]) -> None:
        where = translate.where_of(body)
        said = translate.said_of(body)
        who = await self._identify(body, where)
        if who.person is None:
            await self._say_in_turn(context, who.refusal)
            return
        person = who.person
        await self._remember(context, where, person)
        place = Place("teams", where.conversation, where.thread)
        now = _now()
        if said.choice is not None:
            inbound = Inbound(person, place, now, choice=said.choice)
        elif said.form is not None:
            inbound = Inbound(person, place, now, form=said.form)
        else:
            text = said.text or ""
            if where.thread and norm(text) not in {"status", "help"}:
                case_id = await self._case_of_thread(where.conversation, where.thread)
                if case_id and not await self._conversation_exists(person, place):
                    inbound = Inbound(person, place, now, text=text)
                    try:
                        outcome = await self.handler.case_thread_message(inbound, case_id)
                    except FrontdoorError as exc:
                        outcome = Outcome([Reply(str(exc), private=True)])
                    await self._deliver(outcome, where, person)
                    return
            inbound = Inbound(person, place, now, text=text or "hi")
        await self._deliver(await self.handler.handle(inbound), where, person)

    async def _conversation_exists(self, person: Person, place: Place) -> bool:
        state, _ = await self.store.load_conversation(
            conversation_key(Inbound(person, place, _now())))
        return state is not None

    async def _case_of_thread(self, conversation: str, thread: str) -> str | None:
        state = await recall(self.store, f"{THREAD_PREFIX}{conversation}:{thread}")
        return str(state["case_id"]) if state and state.get("case_id") else None

    # -- the message action ("File a support case") ---------------------------------------------

    async def _on_invoke(self, context: TurnContext, body: dict[str, Any]) -> None:
        name = translate.invoke_name(body)
        if name == "composeExtension/fetchTask":
            response = await self._fetch_task(context, body)
        elif name == "composeExtension/submitAction":
            response = await self._submit_action(context, body)
        else:  # not an invoke Frontdoor offers (a 4xx: what was sent, not a failure of ours)
            response = InvokeResponse(status=400, body={"error": "not an invoke Frontdoor "
                                                                 "answers"})
        await context.send_activity(Activity(type=ActivityTypes.invoke_response,
                                             value=response))

    async def _fetch_task(self, context: TurnContext, body: dict[str, Any]) -> InvokeResponse:
        where = translate.where_of(body)
        who = await self._identify(body, where)
        if who.person is None:
            return _task_message(who.refusal)
        person = who.person
        action = translate.message_action_of(body)
        if not translate.is_file_case_action(action):
            return InvokeResponse(status=400, body={"error": "unknown command"})
        await self._remember(context, where, person)
        description = f"{action.text}\n(from {action.link})" if action.link else action.text
        form = self.handler.intake_form(person, _now(), description=description or None)
        if form is None:
            return _task_message("Your account can't file cases for any customer.")
        return _task_form(form, description)

    async def _submit_action(self, context: TurnContext, body: dict[str, Any]
                             ) -> InvokeResponse:
        where = translate.where_of(body)
        who = await self._identify(body, where)
        if who.person is None:
            return _task_message(who.refusal)
        person = who.person
        form_id, values = translate.task_submission_of(body)
        if form_id == "intake-customer":
            description = values.get("description") or None
            form = self.handler.intake_form(person, _now(), customer_id=values.get("customer"),
                                            description=description)
            if form is None or form.id == "intake-customer":
                return _task_message("Choose one of the customers you file for.")
            return _task_form(form, None)
        await self._remember(context, where, person)
        action = translate.message_action_of(body) if (body.get("value") or {}).get(
            "commandId") else None
        thread = where.thread
        if where.kind == "channel" and thread is None and action is not None:
            thread = action.message_id
        place = Place("teams", where.conversation, thread)
        outcome = await self.handler.handle(Inbound(person, place, _now(), form=values))
        target = translate.Where(where.conversation, thread, where.kind, where.tenant,
                                 where.service_url, where.team)
        await self._deliver(outcome, target, person)
        return InvokeResponse(status=200, body={})

    # -- posting --------------------------------------------------------------------------------

    async def _deliver(self, outcome: Outcome, where: translate.Where, person: Person) -> None:
        """The handler's outcome as outbox items: replies where the person spoke (in order;
        private ones in a shared conversation go to their personal chat with the bot, when
        they have one), notices to each audience's conversation (in order per case)."""
        now = _now()
        items: list[OutboxItem] = []
        here = where.conversation_id
        channels = self.directory.deployment.vendor.channels.get("teams")
        in_engineers = bool(channels and where.conversation == channels.engineers)
        noticed = {n.case_id for n in outcome.notices if n.audience == "engineers"}
        personal = None
        if where.is_group and any(r.private for r in outcome.replies):
            stored = await recall(self.store, PERSONAL_PREFIX + person.id)
            personal = str(stored["conversation"]) if stored else None
        place = Place("teams", where.conversation, where.thread)
        for reply in outcome.replies:
            if in_engineers and reply.card and reply.card.case_id in noticed \
                    and not reply.private:
                continue  # the engineers' card is updated and the news posted under it
            target = personal if reply.private and personal else here
            activity = render.render_activity(reply)
            if reply.card is not None and target == here \
                    and await self._is_origin(reply.card.case_id, place):
                post = TeamsPost(op="card", conversation=target, activity=activity,
                                 card_key=f"{reply.card.case_id}:customer")
            else:
                post = TeamsPost(op="post", conversation=target, activity=activity)
            items.append(outbox_item(post, f"teams:{target}", now=now))
        for notice in outcome.notices:
            if notice.kind == "new_case" and where.thread and notice.audience == "engineers":
                await remember(self.store, f"{THREAD_PREFIX}{where.conversation}:"
                               f"{where.thread}", {"case_id": notice.case_id})
            items += await self._reachable(
                await notice_items(self.store, self.directory, notice, now))
        if items:
            await self.store.enqueue_outbox(items)
            self.kick()

    async def _reachable(self, items: list[OutboxItem]) -> list[OutboxItem]:
        """Notices for conversations Teams can't be reached in yet are not enqueued (they
        would hold back the case's later notices for ever); each is logged."""
        out = []
        for item in items:
            if await reachable(self.store, item, self.config.fallback_service_url):
                out.append(item)
            else:
                log.warning("teams notice not posted: the bot has not heard from that "
                            "conversation yet (add it to the team, or set "
                            "FRONTDOOR_TEAMS_SERVICE_URL)", extra={"case_id": item.case_id})
        return out

    async def _is_origin(self, case_id: str, place: Place) -> bool:
        case = await self.store.get_case(case_id)
        return bool(case and case.origin and case.origin.platform == "teams"
                    and case.origin.conversation == place.conversation
                    and case.origin.thread == place.thread)


def _bearer(header: str) -> bool:
    """A well-formed ``Bearer <JWT>`` header (checked strictly before the SDK parses it): the
    token is three base64url parts, of bounded length."""
    scheme, _, token = header.partition(" ")
    return scheme == "Bearer" and _JWT.fullmatch(token) is not None


def _refuse() -> web.Response:
    return web.json_response({"error": "missing or invalid Bot Framework token"}, status=401)


def _task_message(text: str) -> InvokeResponse:
    return InvokeResponse(status=200, body={"task": {"type": "message", "value": text}})


def _task_form(form: Form, description: str | None) -> InvokeResponse:
    """A task module showing `form`; the customer page carries the message along."""
    if form.id == "intake-customer" and description:
        form = Form(form.id, form.title, (*form.fields, FormField(
            "description", "", "hidden", value=description[:3000])), form.submit_label)
    card = render.render_form_card(form)
    return InvokeResponse(status=200, body={"task": {"type": "continue", "value": {
        "title": render.clip(form.title, 60), "height": "large", "width": "medium",
        "card": render.attachment(card)}}})
