"""Reading a customer's own words: case type, impact answers, a named priority, the
deployment and the pack's extra fields, from any message.

The words are the pack's data (cues beside each question and option, with shared defaults in
`packs/_vocabulary.toml`); this module is the engine and knows no vendor. It reports only what
the words say, with the words that said it, and leaves unsaid what they don't: the intake asks
for the rest.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from policy.errors import PolicyError
from policy.pack import Pack
from policy.scope import PhraseHit, PhraseMatcher, normalise_words

_NUMBER_WORDS = ("two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|"
                 "thirty|forty|fifty|hundred|hundreds|thousand|thousands|dozen|dozens|many|"
                 "several")
_PEOPLE = ("users|people|persons|employees|colleagues|accounts|identities|staff|members|"
           "customers|reps|agents|folks|brugere|medarbejdere|kolleger")
# "5 users", "about twenty people" → "several users"; "1 user", "one colleague" → "one user".
_SEVERAL = re.compile(rf"\b(?:\d{{2,}}|[2-9]|{_NUMBER_WORDS})\s*%?\s+(?:of\s+(?:our|the)\s+)?"
                      rf"(?:{_PEOPLE})\b", re.IGNORECASE)
_ONE = re.compile(r"\b(?:1|one|a single|single)\s+(?:user|person|employee|colleague|account)\b",
                  re.IGNORECASE)
_SEPARATORS = re.compile(r"[-_./]+")


@dataclass(frozen=True, slots=True)
class DeploymentRef:
    name: str
    environment: str


@dataclass(slots=True)
class Reading:
    """What one message says. `words` maps each key read ("case_type", "priority",
    "impact.<question>", "deployment", "environment", "field.<name>") to the customer's words."""

    case_type: str | None = None
    priority: str | None = None
    impact: dict[str, str] = field(default_factory=dict)
    environment: str | None = None
    deployment: str | None = None
    fields: dict[str, str] = field(default_factory=dict)
    words: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Vocabulary:
    types: PhraseMatcher
    impact: Mapping[str, PhraseMatcher]
    environments: PhraseMatcher
    fields: Mapping[str, PhraseMatcher]


_VOCABULARIES: dict[int, tuple[Pack, _Vocabulary]] = {}


def _vocabulary(pack: Pack) -> _Vocabulary:
    """Compiled once per pack (packs are few and loaded once)."""
    known = _VOCABULARIES.get(id(pack))
    if known is not None and known[0] is pack:
        return known[1]
    built = _build_vocabulary(pack)
    _VOCABULARIES[id(pack)] = (pack, built)
    return built


def _build_vocabulary(pack: Pack) -> _Vocabulary:
    types = {name: (*spec.cues, spec.label) for name, spec in pack.case_types.items()}
    # Phrases that swallow a type cue without being one ("nothing is broken" is no bug).
    types[_NO_TYPE] = pack.understanding.not_a_problem
    impact = {
        qid: PhraseMatcher({o.id: o.cues for o in question.options if o.cues})
        for qid, question in pack.impact.questions.items()
    }
    fields = {
        name: PhraseMatcher({o.id: (*o.cues, o.label) for o in (*spec.options, *spec.known)})
        for name, spec in pack.intake.items() if spec.options or spec.known
    }
    environments = {str(k): v for k, v in pack.understanding.environments.items()}
    return _Vocabulary(PhraseMatcher(types), impact, PhraseMatcher(environments), fields)


def _prepare(text: str) -> str:
    text = _SEVERAL.sub(" several users ", text)
    return _ONE.sub(" one user ", text)


_NO_TYPE = "-"


def _strongest(
    hits: Sequence[PhraseHit], extra: Mapping[str, int] | None = None
) -> tuple[str | None, PhraseHit | None]:
    """The name whose phrases cover the most words (plus `extra` evidence); None on a tie."""
    weight: dict[str, int] = dict(extra or {})
    best: dict[str, PhraseHit] = {}
    for hit in hits:
        if hit.name == _NO_TYPE:
            continue
        weight[hit.name] = weight.get(hit.name, 0) + hit.end - hit.start + 1
        if hit.name not in best or hit.end - hit.start > best[hit.name].end - best[hit.name].start:
            best[hit.name] = hit
    if not weight:
        return None, None
    ranked = sorted(weight.items(), key=lambda kv: -kv[1])
    if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
        return None, None
    return ranked[0][0], best.get(ranked[0][0])


def _span(surfaces: Sequence[str], hit: PhraseHit) -> str:
    return " ".join(surfaces[hit.start:hit.end + 1])


def read_priority(pack: Pack, text: str) -> tuple[str, str] | None:
    """A priority named outright ("P1", "sev 2", "severity: high", "highest priority") and the
    words; plain adjectives ("critical bug") are impact, not a named priority."""
    lowered = text.lower()
    words = "|".join(re.escape(w) for w in pack.understanding.priority_words)
    aliases = sorted({a for spec in pack.priorities.values() for a in (*spec.aliases,
                      spec.label.lower())} | set(pack.priorities), key=len, reverse=True)
    named = "|".join(re.escape(a) for a in aliases if not a.isdigit())
    people = r"(?!\s*%|\s+(?:users?|people|persons?|employees?|colleagues?|accounts?|of)\b)"
    patterns = [
        r"\b(p\s?\d)\b",
        rf"\b(?:{words})\s*[:=-]?\s*(\d\b{people}|(?:{named})\b)",
        rf"\b({named})\s+(?:{words})\b",
    ]
    found: list[tuple[int, str, str]] = []
    for pattern in patterns:
        for match in re.finditer(pattern, lowered):
            candidate = match.group(1).replace(" ", "")
            for key in (candidate, f"p{candidate}" if candidate.isdigit() else candidate):
                try:
                    found.append((match.start(), pack.priority(key),
                                  text[match.start():match.end()]))
                    break
                except PolicyError:
                    continue
    if found:
        _, priority, said = min(found)
        return priority, said
    return None


def read_deployment(
    text: str, deployments: Sequence[DeploymentRef], environment: str | None = None
) -> str | None:
    """A deployment by its name, a distinctive part of it, or the one deployment in the
    environment the message names."""
    if not deployments:
        return None
    words = _SEPARATORS.sub(" ", text.lower())
    tokens = re.findall(r"[a-z0-9]+", words)
    joined = " ".join(tokens)
    full = [d.name for d in deployments
            if re.search(rf"\b{re.escape(' '.join(re.findall(r'[a-z0-9]+', d.name.lower())))}\b",
                         joined)
            or re.sub(r"[^a-z0-9]", "", d.name.lower()) in tokens]
    if len(full) == 1:
        return full[0]
    parts = {d.name: set(re.findall(r"[a-z0-9]+", d.name.lower())) for d in deployments}
    shared = set.intersection(*parts.values()) if len(parts) > 1 else set()
    stems = set(normalise_words(text)) | set(tokens)
    partial = [name for name, ps in parts.items()
               if any(p in stems for p in ps - shared if len(p) >= 3 and not p.isdigit())]
    if len(partial) == 1:
        return partial[0]
    if environment is not None:
        in_env = [d.name for d in deployments if d.environment == environment]
        if len(in_env) == 1:
            return in_env[0]
    return None


def read_environment(pack: Pack, text: str) -> tuple[str, str] | None:
    hits, surfaces = _vocabulary(pack).environments.find(text)
    name, hit = _strongest(hits)
    if name is None or hit is None:
        return None
    return name, _span(surfaces, hit)


def read_field(
    pack: Pack, name: str, text: str, avoid: Sequence[str] = ()
) -> tuple[str, str] | None:
    """A pack field's value from free text: an option or known value by its cues, or a named
    thing ending in one of the field's head words ("orders API")."""
    spec = pack.intake[name]
    matcher = _vocabulary(pack).fields.get(name)
    if matcher is not None:
        hits, surfaces = matcher.find(text)
        picked, hit = _strongest(hits)
        if picked is not None and hit is not None:
            option = next(o for o in (*spec.options, *spec.known) if o.id == picked)
            return option.label, _span(surfaces, hit)
    if spec.capture:
        captured = _capture(text, spec.capture, avoid)
        if captured:
            return captured, captured
    return None


_STOP = frozenset({"the", "a", "an", "our", "my", "your", "their", "its", "on", "in", "at", "of",
                   "for", "to", "and", "or", "is", "are", "was", "with", "from", "all", "this",
                   "that", "these", "those", "any", "every", "some", "we", "i", "it",
                   "has", "have", "been", "be", "not", "no", "by", "as", "after", "since"})


def _capture(text: str, heads: Sequence[str], avoid: Sequence[str]) -> str | None:
    surfaces = re.findall(r"[A-Za-z0-9][A-Za-z0-9'-]*|[.,;:!?()]", text)
    lower = [s.lower() for s in surfaces]
    head_set = {h.lower() for h in heads}
    avoided = {w for a in avoid for w in re.findall(r"[a-z0-9]+", a.lower())} | {
        a.lower() for a in avoid}
    for i, word in enumerate(lower):
        if word not in head_set:
            continue
        end = i
        while end + 1 < len(lower) and lower[end + 1] in head_set:
            end += 1
        start = i
        while start > 0 and i - start < 2:
            before = lower[start - 1]
            if (before in _STOP or not before[0].isalnum() or before.isdigit()
                    or before in avoided or any(p in avoided for p in before.split("-"))):
                break
            start -= 1
        return " ".join(surfaces[start:end + 1])
    return None


def read(
    pack: Pack,
    text: str,
    deployments: Sequence[DeploymentRef] = (),
) -> Reading:
    """Everything `text` says for this pack; deployment names are never taken as products."""
    reading = Reading()
    prepared = _prepare(text)
    vocabulary = _vocabulary(pack)

    type_hits, surfaces = vocabulary.types.find(prepared)
    for qid, matcher in vocabulary.impact.items():
        hits, impact_surfaces = matcher.find(prepared)
        answer, hit = _strongest(hits)
        if answer is not None and hit is not None:
            reading.impact[qid] = answer
            reading.words[f"impact.{qid}"] = _span(impact_surfaces, hit)
    named = read_priority(pack, text)
    if named is not None:
        reading.priority, reading.words["priority"] = named
    understanding = pack.understanding
    # Evidence beyond type cues: an impact described is a problem's; a named priority is the
    # one type with priorities'; a question mark is a question's.
    extra: dict[str, int] = {}
    default = understanding.default_case_type
    if default and reading.impact:
        said = {reading.words[f"impact.{q}"] for q in reading.impact}
        extra[default] = extra.get(default, 0) + sum(len(w.split()) for w in said)
    with_priority = [t for t, spec in pack.case_types.items() if spec.has_priority]
    if reading.priority and len(with_priority) == 1:
        extra[with_priority[0]] = extra.get(with_priority[0], 0) + 2
    if "?" in text and understanding.question_case_type:
        extra[understanding.question_case_type] = (
            extra.get(understanding.question_case_type, 0) + 1)
    case_type, hit = _strongest(type_hits, extra)
    if case_type is not None:
        reading.case_type = case_type
        if hit is not None:
            reading.words["case_type"] = _span(surfaces, hit)

    environment = read_environment(pack, prepared)
    if environment is not None:
        reading.environment, reading.words["environment"] = environment
    deployment = read_deployment(text, deployments, reading.environment)
    if deployment is not None:
        reading.deployment = deployment
        reading.words["deployment"] = deployment

    avoid = [d.name for d in deployments]
    avoid += [w for cues in pack.understanding.environments.values() for w in cues]
    for name in pack.intake:
        value = read_field(pack, name, prepared, avoid)
        if value is None and reading.deployment is not None and pack.intake[name].options:
            # A deployment's name may say what it is ("initech-saas").
            value = read_field(pack, name, _SEPARATORS.sub(" ", reading.deployment))
        if value is not None:
            reading.fields[name], reading.words[f"field.{name}"] = value
    return reading
