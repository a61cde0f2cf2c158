"""Case actions: acknowledge, assign, ask, workaround, resolve, reclassify, resume, close,
reopen, escalate, the war team's response plan … — their forms, and what each says to the
speaker, the customer's conversation, the engineers, escalations and the partner."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from bot.case_card import (
    EXPLAIN,
    case_card,
    case_line,
    channel_reader,
    explain_reply,
    reader_tz,
)
from bot.cases import (
    NEEDS_TEXT,
    SEND_ARTICLE,
    TRANSITIONS,
    ActResult,
    CaseService,
    escalation_ladder,
)
from bot.choice_ids import action_form, case_action
from bot.deployment import Directory
from bot.errors import (
    InvalidTransitionError,
    KnowledgeError,
    NotAllowedError,
    ResponsePlanError,
)
from bot.handler.intake_loop import query_usage
from bot.knowledge import KnowledgeBase, metrics
from bot.messages import (
    ArticleLink,
    Choice,
    Form,
    FormField,
    Inbound,
    Notice,
    Outcome,
    Person,
    Reply,
    articles_text,
)
from bot.news import (
    answer_form,
    customer_news,
    level_name,
    sent_articles,
    sentence,
    with_articles,
)
from bot.records import ArticleRef, CaseEventRecord, CaseRecord
from bot.response_plan import RESPONSE_PLAN, find_item, formed, items, require_war_team
from bot.sla_view import when
from bot.store.base import Store
from bot.timeline import describe_event
from bot.war_room import plan_form, war_room_notice, war_room_reply

# Words people use for each case action in free text ("ack ACME-4", "resolve ACME-4 fixed").
VERBS: dict[str, str] = {
    "ack": "acknowledge", "acknowledge": "acknowledge", "take": "acknowledge",
    "assign": "assign", "ask": "ask_customer", "workaround": "workaround",
    "resolve": "resolve", "resolved": "resolve", "fixed": "resolve", "close": "close",
    "reopen": "reopen", "reclassify": "reclassify", "escalate": "escalate",
    "update": "comment", "comment": "comment", "note": "comment", "reply": "provide_info",
    "info": "provide_info", "answer": "provide_info", "progress": "start_progress",
    "start": "start_progress", "log": "log_hours", "suspend": "suspend_sla",
    "reinstate": "reinstate_sla", "plan": RESPONSE_PLAN, "why": EXPLAIN, "explain": EXPLAIN,
    "send": SEND_ARTICLE, "article": SEND_ARTICLE,
}
# Verbs that are commands only for the vendor's people (a customer's "send …" is just words).
VENDOR_VERBS = frozenset({"send", "article"})


class CaseActions:
    def __init__(self, store: Store, directory: Directory, cases: CaseService,
                 knowledge: KnowledgeBase | None = None) -> None:
        self.store = store
        self.directory = directory
        self.cases = cases
        self.knowledge = knowledge

    async def act(self, inbound: Inbound, action: str, case_id: str,
                  values: dict[str, str]) -> Outcome:
        person = inbound.person
        if action.partition("/")[0] == RESPONSE_PLAN:
            return await self._response_plan(inbound, action, case_id, values)
        if action == EXPLAIN:
            case = await self.cases.visible_case(person, case_id, inbound.at)
            events = await self.store.case_events(case.id)
            return Outcome([explain_reply(self.directory, person, case, events, inbound.at)])
        if action.partition("/")[0] == SEND_ARTICLE:
            return await self._send_article(inbound, action, case_id, values)
        if action not in TRANSITIONS:
            return Outcome([Reply(f"I don't know the action {action!r}.", private=True)])
        # Permission first, audited, before anything of the case or the action is shown.
        case = await self.cases.visible_case(person, case_id, inbound.at, action)
        await self.cases.require(person, action, case, inbound.at)
        if action == "acknowledge":
            await self._not_yet_acknowledged(person, case)
        text = (values.get("text") or "").strip()
        needs = NEEDS_TEXT.get(action)
        wants_form = (needs and not text and action not in {"reopen"}) or (
            action == "reclassify" and not (values.get("priority") or values.get("case_type")))
        if wants_form:
            return Outcome([self._action_form(case, action)])
        try:
            minutes = int(values["minutes"]) if values.get("minutes") else None
        except ValueError:
            return Outcome([Reply("Give the time in minutes, e.g. “log ACME-4 90 call”.",
                                  private=True)])
        result = await self.cases.act(
            person, case_id, action, inbound.at, text=text or None,
            assignee=values.get("assignee"), case_type=values.get("case_type") or None,
            priority=values.get("priority") or None, minutes=minutes,
            level=values.get("level") or None)
        return await self.after_action(inbound, action, result)

    async def _not_yet_acknowledged(self, person: Person, case: CaseRecord) -> None:
        """A second acknowledgement says who acknowledged the case, and when."""
        if case.status == "new":
            return
        events = await self.store.case_events(case.id)
        ack = next((e for e in events if e.kind == "acknowledged"), None)
        if ack is None:
            return  # let the lifecycle say why it can't be acknowledged
        who = ack.actor_name or self.directory.name_of(ack.actor)
        at = when(ack.at, reader_tz(self.directory, person, case))
        raise InvalidTransitionError(f"{case.id} is already acknowledged by {who} at {at}.")

    async def case_thread_message(self, inbound: Inbound, case_id: str) -> Outcome:
        """Someone wrote in a case's own thread. An engineer's first reply there is the first
        human response (it acknowledges the case); a customer's reply answers a question
        (resuming the clock) or adds a comment."""
        person = inbound.person
        case = await self.cases.visible_case(person, case_id, inbound.at, "comment")
        text = (inbound.text or "").strip()
        if person.is_vendor:
            if case.status != "new":
                return Outcome()
            result = await self.cases.act(person, case.id, "acknowledge", inbound.at,
                                          text="first response in the case thread")
            return await self.after_action(inbound, "acknowledge", result)
        if not text:
            return Outcome()
        action = "provide_info" if case.status == "waiting_on_customer" else "comment"
        if case.status in {"closed"}:
            return Outcome([Reply(f"{case.id} is closed. Say “reopen {case.id} …” to reopen "
                                  "it, or start a new case.", private=True)])
        result = await self.cases.act(person, case.id, action, inbound.at, text=text)
        return await self.after_action(inbound, action, result)

    # -- the war team's response plan ------------------------------------------------------------

    async def war_room(self, person: Person, now: datetime) -> list[Reply]:
        """The war-room posts of the open cases whose war team is formed (the vendor's
        channel: customers and partners see none here)."""
        if not person.is_vendor:
            return []
        out = []
        for case in await self.cases.visible_cases(person, open_only=True):
            if formed(self.directory.pack_of(case.customer_id), case):
                events = await self.store.case_events(case.id)
                out.append(war_room_reply(self.directory, case, events, now, reader=person))
        return out

    async def _response_plan(self, inbound: Inbound, action: str, case_id: str,
                             values: dict[str, str]) -> Outcome:
        """A response-plan button (`response_plan/<item>`), its form, or “plan ACME-4 [n
        text]”: refused before any form unless the person may fill it in."""
        person = inbound.person
        case = await self.cases.visible_case(person, case_id, inbound.at, RESPONSE_PLAN)
        war = self.directory.pack_of(case.customer_id).escalation.war_team
        try:
            await self.cases._require(person, RESPONSE_PLAN, case.customer_id, case.id,
                                      inbound.at)
        except NotAllowedError as exc:
            clause = f" ({war.clause})" if war else ""
            raise NotAllowedError(f"{exc}{clause}") from None
        key = action.partition("/")[2]
        text = (values.get("text") or "").strip()
        if not key and text and war is not None:
            first, _, rest = text.partition(" ")
            if find_item(war, first) is not None:
                key, text = first, rest.strip()
        events = await self.store.case_events(case.id)
        if not key:
            if text:
                listed = "; ".join(f"{i.number} {i.label}" for i in items(war)) if war else ""
                raise ResponsePlanError(f"Which item? Say “plan {case.id} <number> <text>” "
                                        f"({listed}).")
            require_war_team(self.directory.pack_of(case.customer_id), case)
            return Outcome([war_room_reply(self.directory, case, events, inbound.at,
                                           reader=person)])
        item = find_item(war, key) if war else None
        if not text and item is not None:
            return Outcome([plan_form(self.directory, case, events, item, inbound.at)])
        result = await self.cases.act(person, case.id, RESPONSE_PLAN, inbound.at, text=text,
                                      item=key)
        return await self.after_action(inbound, RESPONSE_PLAN, result)

    # -- articles of the vendor's documentation --------------------------------------------------

    async def _send_article(self, inbound: Inbound, action: str, case_id: str,
                            values: dict[str, str]) -> Outcome:
        """`send_article/<id>` (a card's button) sends that article to the customer; "send
        ACME-4 <words>" sends the article with that id, else lists what the words find."""
        person = inbound.person
        case = await self.cases.visible_case(person, case_id, inbound.at, SEND_ARTICLE)
        await self.cases._require(person, SEND_ARTICLE, case.customer_id, case.id, inbound.at)
        wanted = action.partition("/")[2] or (values.get("text") or "").strip()
        article = self._article_for(case, wanted) if wanted else None
        if article is None:
            return Outcome([self._article_choices(case, wanted)])
        result = await self.cases.act(person, case.id, SEND_ARTICLE, inbound.at,
                                      article=article)
        metrics.SENT.labels(case.pack).inc()
        return await self.after_action(inbound, SEND_ARTICLE, result)

    def _article_for(self, case: CaseRecord, wanted: str) -> ArticleRef | None:
        """The article with this id: one of the case's, else one of the documentation's the
        customer may be shown."""
        known = next((a for a in case.articles if a.id == wanted), None)
        if known is not None or self.knowledge is None:
            return known
        try:
            found = self.knowledge.article(wanted)
        except KnowledgeError:
            return None
        if found is None or not self.knowledge.visible(found, case.customer_id):
            return None
        return self.knowledge.ref(found)

    def _article_choices(self, case: CaseRecord, words: str) -> Reply:
        """Which article? What the words find (else the case's own), each a button sending it."""
        found: list[ArticleRef] = []
        if words and self.knowledge is not None:
            try:
                found = [self.knowledge.ref(h.article, h.excerpt)
                         for h in self.knowledge.search(words, case.customer_id, limit=5)]
            except KnowledgeError as exc:
                return Reply(f"The documentation can't be searched right now: {exc}",
                             private=True)
        found = found or list(case.articles)
        if not found:
            return Reply(f"No article found{' for “' + words + '”' if words else ''}. Say “send "
                         f"{case.id} <words from the question>” to search the documentation.",
                         private=True)
        choices = tuple(Choice(str(case_action(f"{SEND_ARTICLE}/{a.id}", case.id)), a.title,
                               a.excerpt) for a in found[:5])
        links = tuple(ArticleLink(a.id, a.title, a.url, a.excerpt) for a in found[:5])
        return Reply("\n".join([f"Which article shall I send the customer on {case.id}? One tap "
                                "sends it to their conversation.", *articles_text(links)]),
                     choices=choices, articles=links, private=True)

    def _action_form(self, case: CaseRecord, action: str) -> Reply:
        """The form of a case action that needs words, naming the case (id, priority,
        title) it acts on."""
        pack = self.directory.pack_of(case.customer_id)
        if action == "provide_info":
            return Reply(f"Answer — {case.id}: fill in the form, or type “reply {case.id} …”.",
                         form=answer_form(self.directory, case), private=True)
        fields: list[FormField] = []
        title = {"ask_customer": "Ask the customer", "reclassify": "Reclassify",
                 "escalate": "Escalate", "comment": "Add to the case",
                 "status_update": "Post an update",
                 "suspend_sla": "Suspend the SLA", "resolve": "Resolve",
                 "workaround": "Workaround provided"}.get(action, action)
        if action == "reclassify":
            fields.append(FormField("priority", pack.priority_word, "choice", tuple(
                Choice(p, pack.priorities[p].label) for p in pack.ordered_priorities()),
                required=False, value=case.priority))
            fields.append(FormField("case_type", "Case type", "choice", tuple(
                Choice(n, t.label) for n, t in pack.case_types.items()), required=False,
                value=case.case_type))
        if action == "escalate":
            ladder = escalation_ladder(pack, case.plan)
            fields.append(FormField("level", "Level", "choice", tuple(
                Choice(lv, pack.escalation.levels[lv].name) for lv in ladder),
                required=False, hint="Empty: the next level"))
        label = {"ask_customer": "Question for the customer", "reclassify": "Reason",
                 "escalate": "Reason and impact"}.get(action, "Text")
        fields.append(FormField("text", label, "long_text"))
        fields.append(FormField("_action", "", "hidden", value=action, required=True))
        fields.append(FormField("_case", "", "hidden", value=case.id, required=True))
        return Reply(f"{title} — {case.id}: fill in the form, or type “{verb_for(action)} "
                     f"{case.id} …”.",
                     form=Form(str(action_form(action, case.id)), f"{title} — {case.id}",
                               tuple(fields), "Send", intro=case_line(self.directory, case)),
                     private=True)

    # -- what an action says, and to whom -------------------------------------------------------

    async def after_action(self, inbound: Inbound, action: str, result: ActResult) -> Outcome:
        person = inbound.person
        case = result.case
        events = await self.store.case_events(case.id)
        now = inbound.at
        pack = self.directory.pack_of(case.customer_id)
        # The action's own event is the last one (an automatic acknowledgement may precede it).
        note = result.events[-1].reason if result.events else None
        who = person.name
        if action == RESPONSE_PLAN:
            return self._plan_filled(inbound, result, events)
        # What the customer is told (one wording on every channel); the speaker and the
        # engineers read the same, except for what only they need to hear.
        news = " ".join(text for e in result.events
                        if (text := customer_news(self.directory, case, e)))
        said = {
            "assign": f"{case.id} is assigned to "
                      f"{self.directory.name_of(case.assignee or '')}.",
            "ask_customer": f"You asked the customer on {case.id}: {sentence(note)} The "
                            "clocks the policy pauses are paused until they answer.",
            "provide_info": f"{who} replied on {case.id}: {note or '(no text)'}",
            "comment": f"{who} on {case.id}: {note}" if not person.is_vendor else news,
            "log_hours": f"Logged {result.events[-1].data.get('minutes')} min on {case.id} "
                         f"(total {case.query_minutes} min).",
            SEND_ARTICLE: f"{who} sent the article “{note}” to the customer on {case.id}.",
        }.get(action) or news
        if action == "comment" and not person.is_vendor and case.status == "waiting_on_customer":
            said += " " + self._still_waiting(case, events)
        outcome = Outcome([case_card(self.directory, person, case, events, now, said)])
        to_customer = action in {"acknowledge", "ask_customer", "workaround", "resolve",
                                 "reclassify", "reopen", "close", "start_progress",
                                 "status_update", "escalate", "suspend_sla", "reinstate_sla",
                                 SEND_ARTICLE} \
            or (action == "comment" and person.is_vendor)
        # The engineers' channel always gets the news (its card reflects the case's state).
        to_engineers = True
        if to_customer and person.customer_id is None:
            told = news or said
            customer_view = channel_reader("customer_user", case.customer_id)
            sent = sent_articles(result.events)  # the article itself, linked where it can be
            card = case_card(self.directory, customer_view, case, events, now,
                             with_articles(told, sent))
            if sent:
                card = replace(card, articles=sent)
            if action == "ask_customer":  # the question arrives with its answer box
                card = replace(card, form=answer_form(self.directory, case))
            outcome.notices.append(Notice(case.id, "customer", card, kind=action))
        if to_engineers:
            outcome.notices.append(Notice(case.id, "engineers", case_card(
                self.directory, channel_reader("engineer"), case, events, now, said),
                kind=action))
        if action == "escalate":
            engineers_tz = reader_tz(self.directory, channel_reader("engineer"), case)
            history = "\n".join(f"• {when(e.at, engineers_tz)} — "
                                f"{describe_event(self.directory, case, e)}"
                                for e in events[-15:])
            outcome.notices.append(Notice(case.id, "escalations", case_card(
                self.directory, channel_reader("engineer"), case, events, now,
                f"{said}\nHistory:\n{history}"), kind=action))
        if action == "escalate" and result.previous is not None \
                and not formed(pack, result.previous) and formed(pack, case) \
                and pack.escalation.war_team is not None:
            outcome.notices.append(war_room_notice(
                self.directory, case, events, now,
                f"{case.id} was escalated to {level_name(pack, case.escalation_level)} by "
                f"{who}: the war team is formed."))
        if action == "log_hours":
            outcome.notices += await self._query_hours_notices(case, result)
        has_partner = case.partner_id or self.directory.customer(case.customer_id).partner
        if has_partner and action in {"escalate", "resolve", "acknowledge"} \
                and person.role != "partner":
            outcome.notices.append(Notice(case.id, "partner", Reply(said), kind=action))
        return outcome

    def _still_waiting(self, case: CaseRecord, events: Sequence[CaseEventRecord]) -> str:
        """What a customer's comment on a case waiting on them does to the clocks: nothing —
        the question is still open."""
        asked = next((e for e in reversed(events) if e.kind == "waiting_on_customer"), None)
        who = (asked.actor_name or self.directory.name_of(asked.actor)) if asked else \
            "The engineer"
        question = f" (“{asked.reason}”)" if asked and asked.reason else ""
        return (f"{case.id} still waits for your answer to {who}'s question{question}, so the "
                "clocks the policy pauses stay paused. Answer it with “Answer” (or “reply "
                f"{case.id} …”) to resume them.")

    def _plan_filled(self, inbound: Inbound, result: ActResult,
                     events: Sequence[CaseEventRecord]) -> Outcome:
        """An item was agreed: a short receipt for the speaker; the war-room post updated in
        place with the news under it; the engineers' card (its response-plan line)."""
        case = result.case
        data = result.events[-1].data
        said = (f"{inbound.person.name} agreed “{data.get('label')}” for the war team of "
                f"{case.id}: {data.get('shown')}")
        post = war_room_notice(self.directory, case, events, inbound.at, said, RESPONSE_PLAN)
        plan = post.reply.plan
        progress = plan.title.lower() if plan else "recorded"
        receipt = Reply(f"Recorded in {case.id}'s response plan — {data.get('label')}: "
                        f"{data.get('shown')}. The war-room post shows it ({progress}).",
                        private=True)
        return Outcome([receipt], [
            post,
            Notice(case.id, "engineers", case_card(
                self.directory, channel_reader("engineer"), case, events, inbound.at, said),
                kind=RESPONSE_PLAN)])

    async def _query_hours_notices(self, case: CaseRecord, result: ActResult) -> list[Notice]:
        """At 80 % and 100 % of the plan's query hours, tell the customer's admin (their
        case thread) and the engineers — once per threshold crossed."""
        used, limit = await query_usage(self.store, self.directory, case.customer_id)
        if not limit:
            return []
        logged = int(result.events[-1].data.get("minutes", 0)) if result.events else 0
        before = used - logged
        customer = self.directory.customer(case.customer_id)
        out: list[Notice] = []
        for share in (0.8, 1.0):
            if before < share * limit <= used:
                text = (f"{customer.name} has used {used / 60:.1f} of its {limit // 60} query "
                        f"hours ({round(100 * used / limit)} %)."
                        + (" New queries will be billable before they are accepted."
                           if share >= 1.0 else ""))
                out.append(Notice(case.id, "customer", Reply(text), "query_hours"))
                out.append(Notice(case.id, "engineers", Reply(text), "query_hours"))
        return out


def verb_for(action: str) -> str:
    return next((verb for verb, act in VERBS.items() if act == action), action)
