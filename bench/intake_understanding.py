"""How well the intake understands a customer's FIRST message, end to end.

    .venv/bin/python bench/intake_understanding.py                # tests/data/intake_blind.toml
    .venv/bin/python bench/intake_understanding.py --file SET     # any file of [[case]] tables
    .venv/bin/python bench/intake_understanding.py --json         # machine-readable summary
    .venv/bin/python bench/intake_understanding.py --floor 80     # exit 1 below 80 % exact
    .venv/bin/python bench/intake_understanding.py --repo PATH    # another checkout's code

Why: the scope bench measures one function; what customers feel is the whole conversation —
did their first message open the right case, and how many questions did it take. So each
message goes through the REAL conversation handler (built as the servers build it, by the
composition root `adapters.compose`, in-process, on a fresh temporary SQLite store per case, with
the deployment file `examples/frontdoor.toml`), sent as the customer's web identity as the
web chat sends it. An oracle then answers every question from the expected outcome only:

- case type / deployment / pack field (QSCIM environment kind, connector): the expected value;
- impact questions: the answers under which the pack's impact rules (first match decides)
  derive the expected priority; a priority confirmation: "keep" when the derived priority is
  the expected one, else the expected one;
- a description prompt: the message again; a scope question: the option that keeps it in
  scope; a consulting / not-covered offer: file it as support (or take the alternative type
  when that is the expected one);
- anything else: the case is recorded as stuck.

The final one-tap confirmation ("Open the case") is answered and not counted as a question.
An offer of articles before a question is filed ("Did one of these answer it?") is declined
("No, open a case": the oracle's question is the set's, not the documentation's) and counted
apart, as `offers`: it is a tap, not a question about the case.
Once the case is open its stored record is compared with the expectation: case type,
priority, deployment, and for QSCIM environment kind and connector when given. Expected terms
are the seeds' (Incident, Query, P1, Critical, Highest…) and are mapped through the pack's
labels and aliases. A priority the policy itself reclassified (P0 on an unmanaged deployment,
High in hypercare) matches when either the customer's (derived) priority or the policy's is the
expected one: the intake's job is the first, the policy's rule the second. Expected values a
case leaves out are not checked.

A set is a TOML file of cases (keys besides these, e.g. `rationale`, are ignored):

    [[case]]
    id = "b01"
    customer = "acme"                   # examples/frontdoor.toml [customers.*]
    user = "adam"                       # one of that customer's users (its web identity)
    message = "P1 the orders API on acme-prod is down since 09:40"
    expected_type = "Incident"          # seed term, mapped via the pack's labels and aliases
    expected_priority = "P1"            # absent when the type has none
    expected_deployment = "acme-prod"   # absent when not about a deployment
    expected_environment_kind = "SaaS"  # QSCIM, optional
    expected_connector = "LDAP"         # QSCIM, optional (substring either way)

The time of the conversation is fixed (`--at`, default Tuesday 24 Nov 2026 15:00 UTC: Nordlys
in hypercare, business hours) so that runs on different days compare.

`--repo PATH` re-runs this file (and the same set) with PATH's code first on sys.path, e.g. a
`git worktree add /tmp/fd-before <commit>`: the "before" figure of an intake change.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import tomllib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from itertools import product
from pathlib import Path
from typing import Any

BENCH_ROOT = Path(__file__).resolve().parent.parent
REPO_ENV = "FRONTDOOR_BENCH_REPO"
# The code under test: this checkout, or the one `--repo` named (set for the child process).
ROOT = Path(os.environ.get(REPO_ENV) or BENCH_ROOT).resolve()
if str(ROOT) not in sys.path[:1]:
    sys.path.insert(0, str(ROOT))

import bot  # noqa: E402
from bot.deployment import Customer, Directory, load_deployment  # noqa: E402
from bot.handler import Handler  # noqa: E402
from bot.messages import Choice, Inbound, Person, Place, Reply  # noqa: E402
from bot.records import CaseRecord  # noqa: E402
from bot.store import open_store  # noqa: E402
from bot.store.base import Store  # noqa: E402
from policy.errors import PolicyError  # noqa: E402
from policy.pack import Pack  # noqa: E402

DEFAULT_SET = BENCH_ROOT / "tests" / "data" / "intake_blind.toml"
DEFAULT_AT = "2026-11-24T15:00:00+00:00"
MAX_TURNS = 12
PACK_ORDER = ("konneqt", "qscim", "connectsoft", "dk-saas")
TURN_GAP = timedelta(seconds=20)  # a person answering; far below any idle timeout


# ---- the set ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Case:
    id: str
    customer: str
    user: str
    message: str
    expected_type: str
    expected_priority: str | None = None
    expected_deployment: str | None = None
    expected_environment_kind: str | None = None
    expected_connector: str | None = None

    def expected_text(self) -> str:
        parts = [self.expected_type, self.expected_priority, self.expected_deployment]
        if self.expected_environment_kind:
            parts.append(f"env={self.expected_environment_kind}")
        if self.expected_connector:
            parts.append(f"connector={self.expected_connector}")
        return " · ".join(p for p in parts if p)


def load_cases(path: Path) -> list[Case]:
    """The [[case]] tables of a set (unknown keys such as `rationale` are ignored)."""
    with path.open("rb") as fh:
        data = tomllib.load(fh)
    names = set(Case.__dataclass_fields__)
    return [Case(**{k: v for k, v in raw.items() if k in names}) for raw in data["case"]]


# ---- the oracle -------------------------------------------------------------------------------


def key(text: str) -> str:
    """Letters and digits only, lower case: labels compare whatever their punctuation."""
    return re.sub(r"[^a-z0-9]", "", text.lower())


def tail(choice_id: str) -> str:
    """`impact:yes` → `yes`: choice ids carry a step prefix that may change with the intake."""
    return choice_id.rsplit(":", 1)[-1]


@dataclass(frozen=True, slots=True)
class Move:
    """What the oracle does with a reply: answer it (a question), open (the confirmation), or
    give up (stuck, with why)."""

    kind: str  # "answer" | "open" | "decline" (an offer of articles) | "stuck"
    what: str  # what kind of question it took it for, or why it is stuck
    choice: str | None = None
    text: str | None = None


class Oracle:
    """Answers the intake's questions from the expected outcome alone."""

    def __init__(self, case: Case, pack: Pack, customer: Customer) -> None:
        self.case = case
        self.pack = pack
        self.customer = customer
        self.type = _resolve(pack.case_type, case.expected_type)
        self.priority = _resolve(pack.priority, case.expected_priority)
        self.impact_given: dict[str, str] = {}
        self.descriptions = 0

    # -- matching a reply's choices to the pack's terms -------------------------------------

    def _type_of(self, choice: Choice) -> str | None:
        return _first(self.pack.case_type, (choice.id, tail(choice.id), choice.label))

    def _priority_of(self, choice: Choice) -> str | None:
        label = re.sub(r"^\s*keep\s+", "", choice.label, flags=re.IGNORECASE)
        return _first(self.pack.priority, (tail(choice.id), choice.label, label))

    @staticmethod
    def _option(opts: Sequence[Choice], option_id: str, label: str) -> Choice | None:
        """The offered choice standing for a pack option (by id, id tail or label)."""
        for c in opts:
            if option_id in {c.id, tail(c.id)} or key(c.label) == key(label):
                return c
        return None

    def _covers(self, opts: Sequence[Choice], options: Iterable[Any], extra: int) -> bool:
        """All of a pack question's options are offered, with at most `extra` others."""
        options = list(options)
        found = [self._option(opts, o.id, o.label) for o in options]
        return all(found) and len(opts) - len(options) <= extra

    # -- deciding -------------------------------------------------------------------------------

    def answer(self, reply: Reply) -> Move:
        opts = [c for c in reply.choices if not c.id.startswith("cmd:")]
        text = key(reply.text)
        for c in opts:
            if tail(c.id) == "open" or key(c.label).startswith("open"):
                return Move("open", "confirmation", choice=c.id)
        for c in opts:
            if key(c.label).startswith("noopen"):  # "No, open a case": articles offered
                return Move("decline", "article offer", choice=c.id)
        for step in (self._impact, self._case_type, self._priority, self._deployment,
                     self._field, self._scope, self._offer):
            move = step(reply, opts, text)
            if move is not None:
                return move
        if not opts and ("describ" in text or "detail" in text):
            self.descriptions += 1
            if self.descriptions > 2:
                return Move("stuck", "description asked again after the message was sent twice")
            return Move("answer", "description", text=self.case.message)
        return Move("stuck", "a question the oracle can't place")

    def _impact(self, reply: Reply, opts: Sequence[Choice], text: str) -> Move | None:
        questions = self.pack.impact.questions
        hits = [q for q, spec in questions.items() if key(spec.text) in text]
        if not hits:
            hits = [q for q, spec in questions.items() if self._covers(opts, spec.options, 1)]
        if len(hits) != 1:
            return None
        qid = hits[0]
        wanted = self._impact_answer(qid)
        if wanted is None:
            skip = next((c for c in opts if tail(c.id) == "skip" or "choose" in c.label.lower()),
                        None)
            if skip is None:
                return Move("stuck", f"impact {qid}: no answer derives {self.priority}")
            return Move("answer", f"impact {qid} (skip)", choice=skip.id)
        option = next(o for o in questions[qid].options if o.id == wanted)
        offered = self._option(opts, option.id, option.label)
        self.impact_given[qid] = wanted
        if offered is None:
            return Move("answer", f"impact {qid}", text=option.label)
        return Move("answer", f"impact {qid}", choice=offered.id)

    def _impact_answer(self, qid: str) -> str | None:
        """This question's answer on the plainest path to the expected priority: the first
        rule giving it (in the pack's order) made the first match by a full set of answers
        consistent with those already given."""
        questions = self.pack.impact.questions
        if self.priority is None:  # no priority expected: the mildest answer
            return questions[qid].options[-1].id
        ids = list(questions)
        rules = self.pack.impact.rules
        for target in (r for r in rules if r.priority == self.priority):
            for values in product(*[[o.id for o in questions[q].options] for q in ids]):
                answers = dict(zip(ids, values, strict=True))
                if any(answers[q] != v for q, v in self.impact_given.items()):
                    continue
                first = next((r for r in rules
                              if all(answers.get(q) in ok for q, ok in r.when.items())), None)
                if first is target:
                    return answers[qid]
        return None

    def _case_type(self, reply: Reply, opts: Sequence[Choice], text: str) -> Move | None:
        typed = {c.id: t for c in opts if (t := self._type_of(c)) is not None}
        if len(typed) < 2:
            return None
        pick = next((cid for cid, t in typed.items() if t == self.type), None)
        if pick is None:
            return Move("stuck", f"case type {self.case.expected_type!r} is not offered")
        return Move("answer", "case type", choice=pick)

    def _priority(self, reply: Reply, opts: Sequence[Choice], text: str) -> Move | None:
        ranked = {c.id: p for c in opts if (p := self._priority_of(c)) is not None}
        if len(ranked) < 2:
            return None
        keep = next((c for c in opts
                     if tail(c.id) == "keep" or key(c.label).startswith("keep")), None)
        if keep is not None and (self.priority is None or ranked.get(keep.id) == self.priority):
            return Move("answer", "priority (keep)", choice=keep.id)
        pick = next((cid for cid, p in ranked.items()
                     if p == self.priority and (keep is None or cid != keep.id)), None)
        if pick is None:
            return Move("stuck", f"priority {self.case.expected_priority!r} is not offered")
        return Move("answer", "priority (chosen)", choice=pick)

    def _deployment(self, reply: Reply, opts: Sequence[Choice], text: str) -> Move | None:
        names = {d.name for d in self.customer.deployments}
        offered = [c for c in opts if c.id in names or c.label in names]
        if not offered:
            return None
        want = self.case.expected_deployment or next(
            (d.name for d in self.customer.deployments if d.environment == "production"),
            self.customer.deployments[0].name)
        pick = next((c for c in offered if want in {c.id, c.label}), None)
        if pick is None:
            return Move("stuck", f"deployment {want!r} is not offered")
        return Move("answer", "deployment", choice=pick.id)

    def _field(self, reply: Reply, opts: Sequence[Choice], text: str) -> Move | None:
        for name, spec in self.pack.intake.items():
            if spec.options and self._covers(opts, spec.options, 0):
                return self._field_choice(name, opts, spec.options)
            if not spec.options and key(spec.prompt) in text:
                return Move("answer", f"field {name}", text=self._field_text(name))
        return None

    def _field_choice(self, name: str, opts: Sequence[Choice], options: Sequence[Any]) -> Move:
        want = self.case.expected_environment_kind if "environment" in name else None
        message = key(self.case.message)
        option = next((o for o in options if want and _loosely(want, o.label, o.id)), None) \
            or next((o for o in options if not want and key(o.label) in message), None) \
            or (None if want else options[0])
        if option is None:
            return Move("stuck", f"field {name}: {want!r} is not offered")
        picked = self._option(opts, option.id, option.label)
        assert picked is not None
        return Move("answer", f"field {name}", choice=picked.id)

    def _field_text(self, name: str) -> str:
        if "connector" in name:
            return self.case.expected_connector or "none"
        return "Not sure — it's in the description"

    def _scope(self, reply: Reply, opts: Sequence[Choice], text: str) -> Move | None:
        scope = self.pack.scope
        hits = [q for q in scope.questions.values() if key(q.text) in text]
        if not hits:
            hits = [q for q in scope.questions.values() if self._covers(opts, q.options, 0)]
        if not hits:
            return None
        question = hits[0]
        keeps = [o for o in question.options
                 if o.rule and scope.rules[o.rule].decision == "in_scope"]
        for option in keeps:
            picked = self._option(opts, option.id, option.label)
            if picked is not None:
                return Move("answer", f"scope {question.id}", choice=picked.id)
        return Move("stuck", f"scope {question.id}: no in-scope answer offered")

    def _offer(self, reply: Reply, opts: Sequence[Choice], text: str) -> Move | None:
        """Consulting or not covered: file it as the expected type, or as support anyway."""
        for c in opts:
            if self._type_of(c) == self.type and "instead" in c.label.lower():
                return Move("answer", "not covered (alternative type)", choice=c.id)
        for c in opts:
            label = c.label.lower()
            if "as support" in label or "for review" in label or tail(c.id) in {
                    "support", "file-anyway"}:
                return Move("answer", "consulting / not covered (file anyway)", choice=c.id)
        return None


def _resolve(lookup: Any, name: str | None) -> str | None:
    if name is None:
        return None
    try:
        return str(lookup(name))
    except PolicyError:
        return None


def _first(lookup: Any, names: Iterable[str]) -> str | None:
    for name in names:
        found = _resolve(lookup, name)
        if found is not None:
            return found
    return None


def _loosely(expected: str, *values: str | None) -> bool:
    """Case-insensitive, punctuation-blind, substring either way ("Azure AD" ~ "azure-ad")."""
    want = key(expected)
    return bool(want) and any(v and (want in key(v) or key(v) in want) for v in values)


# ---- one case through the handler -------------------------------------------------------------


@dataclass(slots=True)
class Result:
    case: Case
    pack: str
    opened: bool = False
    questions: list[str] = field(default_factory=list)
    answers: list[str] = field(default_factory=list)
    offers: int = 0  # offers of articles declined on the way
    stuck: str | None = None
    got: str = ""
    mismatches: list[str] = field(default_factory=list)

    @property
    def right(self) -> bool:
        return self.opened and not self.mismatches

    @property
    def n_questions(self) -> int:
        return len(self.questions)


def build_handler(store: Store, directory: Directory, deployment: Path, db: Path) -> Handler:
    """The handler as `frontdoor serve` builds it (case changes reschedule the case's timer;
    the deployment's knowledge base, indexed beside the database); no Slack or Teams
    credentials, whatever the environment says. (`--repo` may name a checkout from before
    the knowledge base, the composition root, or any production wiring.)"""
    try:
        from adapters.settings import Settings
    except ImportError:  # a checkout without the production wiring: the bare handler
        return Handler(store, directory)
    try:
        from adapters.compose import build_handler as production
    except ImportError:
        from adapters.worker import build_handler as production  # type: ignore[attr-defined,no-redef]
    settings = Settings(_env_file=None, frontdoor_config=deployment,
                        frontdoor_db=db, redis_url=None, slack_bot_token=None,
                        slack_signing_secret=None, microsoft_app_id="")
    try:
        from adapters.compose import open_knowledge
    except ImportError:  # a checkout from before the knowledge base
        return production(store, directory, settings)
    knowledge = open_knowledge(settings, directory)
    if knowledge is not None:
        knowledge.open()
    return production(store, directory, settings, knowledge)  # type: ignore[call-arg]


async def web_person(store: Store, directory: Directory, handler: Handler,
                     user: str) -> Person | None:
    """The web chat's person for an id, as the web chat decides it (bot.identity; in a
    checkout from before it, the handler's own lookup)."""
    try:
        from bot.identity import Identities, Sender
    except ImportError:
        return await handler.resolve_person("web", user)  # type: ignore[attr-defined]
    return (await Identities(store, directory).recognise(Sender("web", (user,)))).person


async def run_case(case: Case, directory: Directory, deployment: Path,
                   at: datetime) -> Result:
    customer = directory.customer(case.customer)
    pack = directory.pack_of(case.customer)
    result = Result(case, pack.id)
    if _resolve(pack.case_type, case.expected_type) is None:
        result.stuck = f"the set's type {case.expected_type!r} is not a {pack.id} case type"
        result.mismatches.append("type not in pack")
        return result
    with tempfile.TemporaryDirectory(prefix="intake-bench-") as tmp:
        db = Path(tmp) / "bench.db"
        store = open_store(None, db)
        await store.open()
        try:
            handler = build_handler(store, directory, deployment, db)
            person = await web_person(store, directory, handler, case.user)
            if person is None or person.customer_id != case.customer:
                result.stuck = f"user {case.user!r} is not a user of {case.customer!r}"
                result.mismatches.append("unknown user")
                return result
            place = Place("web", f"web:{person.id}")  # as the web chat sends it
            oracle = Oracle(case, pack, customer)
            now = at
            outcome = await handler.handle(Inbound(person, place, now, text=case.message))
            for _ in range(MAX_TURNS):
                if await store.list_cases([case.customer], open_only=False):
                    break
                if not outcome.replies:
                    result.stuck = "no reply"
                    break
                reply = outcome.replies[-1]
                move = oracle.answer(reply)
                if move.kind == "decline":
                    result.offers += 1
                elif move.kind != "open":
                    result.questions.append(reply.text)
                if move.kind == "stuck":
                    result.stuck = move.what
                    break
                if move.kind != "decline":  # answers line up with the questions
                    result.answers.append(f"{move.what}: {move.choice or move.text}")
                now += TURN_GAP
                outcome = await handler.handle(Inbound(person, place, now, text=move.text,
                                                       choice=move.choice))
            else:
                result.stuck = result.stuck or f"not open after {MAX_TURNS} turns"
            cases = await store.list_cases([case.customer], open_only=False)
        except Exception as exc:  # a crash is a result too: keep measuring the others
            result.stuck = f"error: {type(exc).__name__}: {exc}"
            cases = []
        finally:
            await store.close()
    if cases:
        result.opened = True
        compare(result, cases[0], pack)
    elif not result.stuck:
        result.stuck = "never opened"
    return result


def compare(result: Result, record: CaseRecord, pack: Pack) -> None:
    """Fill in what came out and every way it differs from the expectation."""
    case = result.case
    shown = [pack.case_types[record.case_type].label if record.case_type in pack.case_types
             else record.case_type]
    if record.priority:
        shown.append(record.priority + (f" (asked {record.requested_priority})"
                                        if record.requested_priority
                                        and record.requested_priority != record.priority else ""))
    if record.deployment:
        shown.append(record.deployment)
    env_kind = _detail(record, pack, "environment")
    connector = _detail(record, pack, "connector")
    if env_kind:
        shown.append(f"env={env_kind}")
    if connector:
        shown.append(f"connector={connector}")
    if record.details.get("kind") not in (None, "support"):
        shown.append(str(record.details["kind"]))
    result.got = " · ".join(shown)
    wrong = result.mismatches
    if record.case_type != pack.case_type(case.expected_type):
        wrong.append("type")
    if case.expected_priority is not None:
        want = _resolve(pack.priority, case.expected_priority)
        said = {record.priority}
        if record.priority_source == "policy":
            said.add(record.requested_priority)
        if want is None or want not in said:
            wrong.append("priority")
    if case.expected_deployment is not None and record.deployment != case.expected_deployment:
        wrong.append("deployment")
    if case.expected_environment_kind and not _loosely(case.expected_environment_kind, env_kind):
        wrong.append("environment kind")
    if case.expected_connector and not _loosely(case.expected_connector, connector):
        wrong.append("connector")


def _detail(record: CaseRecord, pack: Pack, word: str) -> str | None:
    """A pack field's value in the case's details, found by the field's name or label."""
    for name, value in record.details.items():
        spec = pack.intake.get(name)
        if word in name.lower() or (spec is not None and word in spec.label.lower()):
            return value
    return None


async def run_all(cases: Sequence[Case], deployment: Path, at: datetime) -> list[Result]:
    directory = Directory(load_deployment(deployment))
    return [await run_case(case, directory, deployment, at) for case in cases]


# ---- reporting --------------------------------------------------------------------------------


def summary(results: Sequence[Result]) -> dict[str, Any]:
    qs = [r.n_questions for r in results]
    n = len(results)
    return {
        "n": n,
        "exact": sum(r.right for r in results),
        "exact_pct": round(100 * sum(r.right for r in results) / n, 1) if n else 0.0,
        "median_questions": statistics.median(qs) if qs else 0,
        "max_questions": max(qs, default=0),
        "over_2_questions": sum(q > 2 for q in qs),
        "stuck_or_unopened": sum(not r.opened for r in results),
        "offers": sum(r.offers for r in results),
        "distribution": {str(k): v for k, v in sorted(Counter(qs).items())},
    }


def grouped(results: Sequence[Result]) -> dict[str, dict[str, Any]]:
    packs = [p for p in PACK_ORDER if any(r.pack == p for r in results)]
    packs += sorted({r.pack for r in results} - set(packs))
    out = {p: summary([r for r in results if r.pack == p]) for p in packs}
    out["overall"] = summary(results)
    return out


def _row(name: str, s: dict[str, Any]) -> str:
    dist = " ".join(f"{k}:{v}" for k, v in s["distribution"].items())
    return (f"{name:<12}{s['n']:>4}{s['exact_pct']:>8.1f} %{s['median_questions']:>9g}"
            f"{s['max_questions']:>7}{s['over_2_questions']:>7}{s['stuck_or_unopened']:>9}"
            f"{s.get('offers', 0):>8}   {dist}")


def report(results: Sequence[Result], meta: dict[str, Any]) -> str:
    dirty = " (+ uncommitted changes)" if meta["dirty"] else ""
    lines = [f"intake understanding — {meta['file']}",
             f"code: {meta['repo']} @ {meta['commit']}{dirty}",
             f"conversation at {meta['at']}", "",
             f"{'pack':<12}{'n':>4}{'exact':>9}  {'median q':>9}{'max q':>7}{'>2 q':>7}"
             f"{'unopened':>9}{'offers':>8}   questions:cases"]
    for name, s in grouped(results).items():
        if name == "overall":
            lines.append("-" * 78)
        lines.append(_row(name, s))
    flagged = [r for r in results if not r.right or r.n_questions > 2]
    if flagged:
        lines += ["", "Wrong, unopened, or more than 2 questions:"]
    for r in flagged:
        status = "right" if r.right else "WRONG"
        lines.append(f"\n{r.case.id} [{r.pack}] {r.case.customer}/{r.case.user}: {status}, "
                     f"{r.n_questions} question(s)"
                     + (f" — mismatch: {', '.join(r.mismatches)}" if r.mismatches else "")
                     + (f" — stuck: {r.stuck}" if r.stuck else ""))
        lines.append(f"  message:  {_cut(r.case.message, 110)}")
        lines.append(f"  expected: {r.case.expected_text()}")
        lines.append(f"  got:      {r.got or '(no case opened)'}")
        for i, q in enumerate(r.questions, 1):
            answered = f"  → {r.answers[i - 1]}" if i <= len(r.answers) else ""
            lines.append(f"  q{i}: {_cut(q, 80)}{answered}")
    return "\n".join(lines)


def _cut(text: str, width: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def code_meta(repo: Path) -> dict[str, Any]:
    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", "-C", str(repo), *args], capture_output=True,
                                  text=True, check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return ""
    return {"repo": str(repo), "commit": git("rev-parse", "HEAD") or "unknown",
            "dirty": bool(git("status", "--porcelain", "--untracked-files=no"))}


# ---- command line -----------------------------------------------------------------------------


def _reexec(repo: Path, argv: Sequence[str], set_file: Path) -> int:
    """Run this very file again with `repo`'s code first on sys.path (same set, same args)."""
    args: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg in {"--repo", "--file"}:
            skip = True  # and its value
        elif not arg.startswith(("--repo=", "--file=")):
            args.append(arg)
    env = {**os.environ, REPO_ENV: str(repo)}
    cmd = [sys.executable, str(Path(__file__).resolve()), "--file", str(set_file), *args]
    return subprocess.run(cmd, env=env, cwd=repo, check=False).returncode


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--file", type=Path, default=DEFAULT_SET, help="the set ([[case]])")
    parser.add_argument("--json", action="store_true", help="print a JSON summary instead")
    parser.add_argument("--floor", type=float, default=None,
                        help="exit 1 when overall %% exactly right is below this")
    parser.add_argument("--repo", type=Path, default=None,
                        help="measure the code of another checkout (e.g. a git worktree)")
    parser.add_argument("--at", default=DEFAULT_AT,
                        help="ISO instant of the conversations, or 'now' (default %(default)s)")
    parser.add_argument("--only", default=None, help="comma-separated case ids to run")
    args = parser.parse_args(argv)
    set_file = args.file.resolve()
    if args.repo is not None:
        return _reexec(args.repo.resolve(), argv, set_file)
    loaded = Path(bot.__file__).resolve()
    if ROOT not in loaded.parents:
        sys.exit(f"intake_understanding: bot was imported from {loaded}, not from {ROOT}")
    at = datetime.now().astimezone() if args.at == "now" else datetime.fromisoformat(args.at)
    if not set_file.is_file():
        sys.exit(f"intake_understanding: no set at {set_file} (give --file PATH)")
    cases = load_cases(set_file)
    if args.only:
        wanted = set(args.only.split(","))
        cases = [c for c in cases if c.id in wanted]
    deployment = ROOT / "examples" / "frontdoor.toml"
    results = asyncio.run(run_all(cases, deployment, at))
    meta = {**code_meta(ROOT), "file": str(set_file), "at": at.isoformat()}
    overall = grouped(results)["overall"]
    if args.json:
        print(json.dumps({**meta, "packs": grouped(results), "cases": [
            {"id": r.case.id, "pack": r.pack, "right": r.right, "opened": r.opened,
             "questions": r.n_questions, "asked": [_cut(q, 80) for q in r.questions],
             "answers": r.answers, "stuck": r.stuck, "mismatches": r.mismatches,
             "expected": {k: v for k, v in asdict(r.case).items()
                          if k.startswith("expected_") and v is not None},
             "got": r.got} for r in results]}, indent=2, ensure_ascii=False))
    else:
        print(report(results, meta))
    if args.floor is not None and overall["exact_pct"] < args.floor:
        print(f"overall {overall['exact_pct']} % exactly right is below the floor "
              f"{args.floor} %", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
