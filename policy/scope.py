"""Scope rules: is a request in scope, consulting, or not covered — and which clause says so.

A pack's `[scope]` section is data: named **concepts** (lists of words and phrases a customer
might use for one idea — the pack's synonyms), **rules** (each a decision, the clause that makes
it, and *patterns*: sets of concepts that must all appear), and **questions** to ask when the
words alone do not settle it. This module is the engine and knows no vendor by name; the only
knowledge in code is generic English: normalisation, British → American spelling, a light
stemmer with irregular verb forms, contractions (with or without the apostrophe: "doesnt"),
stop words, negation ("we don't need a custom …"), phrasal verbs whose particle trails the
object ("hook the platform up") and one-letter typos.

Concept weights say how much a concept tells: 0.5 for generic trouble or question words, 1 (the
default) for a *topic* (a product, a component, a kind of problem), 2 for an *intent cue* — what
the customer wants done or whose thing it is ("build us …", "nothing to do with you", "weeks of
work", "the docs don't cover it"). The scoring below lets intent beat topic.

How a decision is made (`decide_scope`):

1. The text is normalised to stems; every concept term is looked for (a multi-word term matches
   in order with small gaps, e.g. "set up … connector"); a negated mention ("not a hardware
   issue") does not count.
2. A rule *matches* when one of its patterns is complete — its concepts all present, within the
   pattern's reach (`within` words; a pattern written as a table may reach the whole text). Its
   score is the sum of the pattern's concept weights (plus a little for `boost` concepts); its
   *strongest cue* is the weightiest single concept; a concept of `unless` vetoes it.
3. Precedence: a rule drops the rules it `overrides`, unless the overridden rule has strictly
   stronger evidence (a higher score, or as high with a weightier cue) — an override settles
   evidence of equal weight, it can't silence an intent cue with a topic word. Otherwise the
   higher score wins, then the weightier cue: a rule that needs more concepts to match is more
   specific, and an intent cue is more telling than a topic.
4. Structured answers decide over words: an answered question's option names the rule it
   settles on; rules governed by that question that the answer contradicts are dropped.
5. Unsure — nothing matched; only weak (weight < 1) concepts matched while an `ask_when`
   concept hints at a rule deciding otherwise; a rule deciding otherwise is close behind the
   winner (less than `_CLOSE` below it, on cues about as weighty); or the winning rule
   `needs_answer` — gives `confident=False` and the question to ask (never one already
   answered). The tentative decision is then the stricter one of equals.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise, product
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from policy.errors import CaseFactsError

Decision = Literal["in_scope", "consulting", "not_covered"]

# How much a decision restricts what the customer gets; used when answers and words disagree.
_RESTRICTIVENESS: dict[str, int] = {"in_scope": 0, "consulting": 1, "not_covered": 2}
_EPS = 1e-9
_FUZZY_FACTOR = 0.85  # a concept found only through a one-letter typo counts a little less
# Shorter words aren't typo-matched: too many real words are one letter from another
# (quite/quote, state/stale, model/module, built/build).
_TYPO_MIN = 6
_BOOST = 0.25  # each `boost` concept present adds this to a matched rule's score
# A rival rule with another decision scoring less than this below the winner leaves us unsure.
_CLOSE = 0.5
_MAX_GAP = 2  # tokens allowed before a content word of a multi-word term
_STOP_GAP = 1  # … and before a function word ("customise the" ≠ "custom attribute with the")
# A phrasal verb's particle may come after its object: "hook the Audit platform up", "put a
# capacity plan together". Before one of these, a term allows a wider gap.
_PARTICLES = frozenset({"up", "out", "together", "back", "over", "off", "down", "through"})
_PARTICLE_GAP = 4
_NEGATION_REACH = 3  # how many following content words a negation covers


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# ---- models ---------------------------------------------------------------------------------


class ScopeOption(_Frozen):
    """One answer to a scope question, and what it implies.

    `rule` names the rule this answer settles on (its decision, clause and explanation then
    apply); `None` means the answer settles nothing (e.g. "I'm not sure").
    """

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    label: str = Field(min_length=1)
    description: str = ""
    rule: str | None = None


class ScopeQuestion(_Frozen):
    """A structured question that decides scope where the words don't (id = its key)."""

    id: str = ""
    text: str = Field(min_length=1)
    options: tuple[ScopeOption, ...]

    @field_validator("options")
    @classmethod
    def _options_ok(cls, options: tuple[ScopeOption, ...]) -> tuple[ScopeOption, ...]:
        if len(options) < 2:
            raise ValueError("a question needs at least two options")
        ids = [o.id for o in options]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"option ids must be unique; repeated: {', '.join(dupes)}")
        return options

    def option(self, answer: str) -> ScopeOption | None:
        """The option an answer picks: by id, else by label (case-insensitive)."""
        key = answer.strip().casefold()
        for opt in self.options:
            if opt.id == key or opt.label.casefold() == key:
                return opt
        return None


class ScopeConcept(_Frozen):
    """One idea, as the words and phrases customers use for it (the pack's synonyms)."""

    terms: tuple[str, ...] = Field(min_length=1)
    weight: float = Field(default=1.0, gt=0, le=5)

    @field_validator("terms")
    @classmethod
    def _terms_ok(cls, terms: tuple[str, ...]) -> tuple[str, ...]:
        for term in terms:
            tokens = _tokenize(term)
            if not tokens or (len(tokens) == 1 and tokens[0].stop):
                raise ValueError(
                    f"term {term!r} is empty or a single stop word, so it would match almost "
                    "anything; use a longer phrase"
                )
        return terms


class ScopePattern(_Frozen):
    """Concepts that must all appear, at most `within` words from the first to the last.

    In a pack a pattern is written either as a list of concept names (it then takes the rule's
    `within`) or as a table `{ concepts = [...], within = N }` (no `within`: anywhere in the
    text) — for cues that may sit in different sentences ("we're short-staffed … implement").
    """

    concepts: tuple[str, ...] = Field(min_length=1)
    within: int | None = Field(default=None, ge=1)


class ScopeRule(_Frozen):
    """A scope rule: when its patterns match, `decision` applies under `clause`."""

    id: str = ""
    decision: Decision
    clause: str = Field(min_length=1)
    summary: str = Field(min_length=1)
    explanation: str = Field(min_length=1)
    alternative: str | None = None
    # Each pattern is a set of concepts that must all appear; any complete pattern matches.
    # A rule without patterns can only be reached through a question's answer.
    patterns: tuple[ScopePattern, ...] = ()
    # For patterns written as plain lists: at most this many words from the first to the last
    # concept (None: anywhere).
    within: int | None = Field(default=None, ge=1)
    boost: tuple[str, ...] = ()
    unless: tuple[str, ...] = ()
    overrides: tuple[str, ...] = ()
    case_types: tuple[str, ...] = ()
    question: str | None = None
    # Concepts that, on their own, make this rule plausible enough to ask its question when
    # nothing decisive matched (e.g. "connector" for custom connector development).
    ask_when: tuple[str, ...] = ()
    needs_answer: bool = False
    # Usage and guidance: the vendor's documentation may answer it, so articles are offered
    # before it is filed (for types without priorities; never an incident).
    guidance: bool = False

    @model_validator(mode="before")
    @classmethod
    def _pattern_shorthand(cls, data: Any) -> Any:
        # `["a", "b"]` is shorthand for `{ concepts = ["a", "b"], within = <the rule's> }`.
        if not isinstance(data, Mapping) or not isinstance(data.get("patterns"), list | tuple):
            return data
        patterns = []
        for pattern in data["patterns"]:
            if isinstance(pattern, list | tuple):
                if not pattern:
                    raise ValueError("a pattern is a non-empty list of concept names")
                pattern = {"concepts": pattern, "within": data.get("within")}
            patterns.append(pattern)
        return {**data, "patterns": patterns}

    @model_validator(mode="after")
    def _answerable(self) -> ScopeRule:
        if self.needs_answer and self.question is None:
            raise ValueError("needs_answer = true requires `question` (what to ask)")
        if self.ask_when and self.question is None:
            raise ValueError("ask_when requires `question` (what to ask)")
        return self


class ScopeSection(_Frozen):
    """A pack's `[scope]` table."""

    default: Decision = "in_scope"
    default_explanation: str = (
        "Nothing in your request falls outside standard support, so we handle it as a normal "
        "support case."
    )
    default_clause: str | None = None
    default_question: str | None = None
    concepts: dict[str, ScopeConcept] = Field(default_factory=dict)
    rules: dict[str, ScopeRule] = Field(default_factory=dict)
    questions: dict[str, ScopeQuestion] = Field(default_factory=dict)

    _compiled: _Compiled | None = PrivateAttr(default=None)

    @field_validator("concepts", mode="before")
    @classmethod
    def _concept_shorthand(cls, value: Any) -> Any:
        # `name = ["term", …]` is shorthand for `[scope.concepts.name] terms = [...]`.
        if isinstance(value, Mapping):
            return {
                k: ({"terms": v} if isinstance(v, list | tuple) else v) for k, v in value.items()
            }
        return value

    @model_validator(mode="before")
    @classmethod
    def _ids_from_keys(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        data = dict(data)
        for table in ("rules", "questions"):
            entries = data.get(table)
            if isinstance(entries, Mapping):
                data[table] = {
                    key: ({"id": key, **value} if isinstance(value, Mapping) else value)
                    for key, value in entries.items()
                }
        return data

    @model_validator(mode="after")
    def _cross_check(self) -> ScopeSection:
        problems: list[str] = []
        concepts, rules, questions = set(self.concepts), set(self.rules), set(self.questions)

        def known(kind: str, names: set[str], name: str | None, where: str) -> None:
            if name is not None and name not in names:
                listing = ", ".join(sorted(names)) or "none defined"
                problems.append(f"{where}: no {kind} named {name!r} (known: {listing})")

        for key, rule in self.rules.items():
            where = f"rules.{key}"
            if rule.id != key:
                problems.append(f"{where}.id: must equal its key {key!r}, got {rule.id!r}")
            for i, pattern in enumerate(rule.patterns):
                for name in pattern.concepts:
                    known("concept", concepts, name, f"{where}.patterns[{i}]")
            for field in ("boost", "unless", "ask_when"):
                for name in getattr(rule, field):
                    known("concept", concepts, name, f"{where}.{field}")
            for name in rule.overrides:
                known("rule", rules, name, f"{where}.overrides")
                if name == key:
                    problems.append(f"{where}.overrides: a rule cannot override itself")
                elif key in self.rules.get(name, rule).overrides:
                    problems.append(f"{where}.overrides: {key!r} and {name!r} override each other")
            known("question", questions, rule.question, f"{where}.question")
        for key, question in self.questions.items():
            if question.id != key:
                problems.append(f"questions.{key}.id: must equal its key {key!r}")
            for opt in question.options:
                known("rule", rules, opt.rule, f"questions.{key}.options[{opt.id}].rule")
        known("question", questions, self.default_question, "default_question")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def model_post_init(self, __context: Any) -> None:
        self._compiled = _compile(self._terms())

    def _terms(self) -> dict[str, tuple[str, ...]]:
        return {name: concept.terms for name, concept in self.concepts.items()}

    def compiled(self) -> _Compiled:
        if self._compiled is None:  # pragma: no cover - model_post_init always sets it
            self._compiled = _compile(self._terms())
        return self._compiled


@dataclass(frozen=True)
class ScopeDecision:
    """The outcome: decision, which rule and clause decided, why, and whether we're sure."""

    decision: Decision
    rule: str | None  # rule id; None when the section's default applied
    clause: str | None
    explanation: str
    confident: bool
    question: ScopeQuestion | None  # what to ask when not confident (None: nothing left to ask)
    matched: tuple[str, ...]  # words/phrases (or "question=answer") that triggered the rule
    alternative: str | None = None  # what the policy offers instead, if anything


# ---- language: normalisation, British → American, stemming, stop words ----------------------


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


_STOP_WORDS = _word_set(
    """
    a about above after again against all am an and any are as at be because been before being
    below between both but by could did do does doing during each few for from further had has
    have having he her here hers herself him himself his how i if in into is it its itself just
    me more most my myself of off on once only or our ours ourselves out over same she should so
    some such than that the their theirs them themselves then there these they this those
    through to too under until up very was we were what when where which while who whom why will
    with would you your yours yourself yourselves also can may might must shall us get got
    getting please hi hello hey thanks thank regards team guys folks pls plz kindly im ive id
    youre lets let want wants wanted need needs needed like
    """
)
_NEGATORS = frozenset({"not", "no", "never", "without"})
# After these a negation is about an action the customer describes as failing ("can't sync"),
# not about the topic; only "not/no …" before a noun phrase or a verb of wanting negates topics.
_NEGATION_TOPIC_VERBS = _word_set(
    """
    need needs needed want wants wanted use using used involve involves involved require
    requires required ask asking about related relate caused cause due because a an any the
    some our my this that these those think believe
    """
)
_NOT_NEGATING_AFTER_NO = frozenset({"longer", "matter", "idea", "one", "problem"})

# Whole-word British spellings with no rule to derive them.
_BRITISH_WORDS: dict[str, str] = {
    "licence": "license",
    "licences": "licenses",
    "licenced": "licensed",
    "licencing": "licensing",
    "defence": "defense",
    "offence": "offense",
    "programme": "program",
    "programmes": "programs",
    "grey": "gray",
    "judgement": "judgment",
    "ageing": "aging",
    "cheque": "check",
    "enrol": "enroll",
    "enrolment": "enrollment",
    "fulfil": "fulfill",
    "tyre": "tire",
    "aluminium": "aluminum",
    "whilst": "while",
    "amongst": "among",
    "learnt": "learned",
    "spelt": "spelled",
    "modelling": "modeling",
    "travelling": "traveling",
    "storey": "story",
    "analyse": "analyze",
    "analysed": "analyzed",
    "analyses": "analyzes",
    "analysing": "analyzing",
    "paralyse": "paralyze",
    "catalyse": "catalyze",
}
_BRITISH_PREFIXES: tuple[tuple[str, str], ...] = (
    ("behaviour", "behavior"),
    ("colour", "color"),
    ("favour", "favor"),
    ("honour", "honor"),
    ("labour", "labor"),
    ("neighbour", "neighbor"),
    ("endeavour", "endeavor"),
    ("flavour", "flavor"),
    ("rumour", "rumor"),
    ("humour", "humor"),
    ("harbour", "harbor"),
    ("catalogu", "catalog"),
    ("dialogu", "dialog"),
    ("analogu", "analog"),
    ("centre", "center"),
    ("metre", "meter"),
    ("litre", "liter"),
    ("fibre", "fiber"),
    ("theatre", "theater"),
)
# -ise/-isation → -ize/-ization, except words that are -ise in American English too.
_ISE = re.compile(r"^([a-z]{3,})is(e|es|ed|ing|ation|ations|er|ers)$")
_ISE_EXCEPTIONS = _word_set(
    """
    advise arise comprise compromise devise disguise enterprise exercise expertise franchise
    improvise merchandise noise otherwise premise promise raise revise rise supervise surprise
    televise wise precise concise cruise praise bruise paradise poise reprise surmise treatise
    demise despise likewise clockwise excise incise advertise chastise apprise guise
    """
)


def americanise(word: str) -> str:
    """British → American spelling for one lower-case word (customise → customize)."""
    if word in _BRITISH_WORDS:
        return _BRITISH_WORDS[word]
    for british, american in _BRITISH_PREFIXES:
        if word.startswith(british):
            return american + word[len(british) :]
    match = _ISE.match(word)
    if match and match[1] + "ise" not in _ISE_EXCEPTIONS:
        return f"{match[1]}iz{match[2]}"
    if word.startswith("synchronis"):
        return "synchroniz" + word[len("synchronis") :]
    return word


_VOWELS = frozenset("aeiouy")
# Derivational endings, each with the shortest stem it may leave behind (so "document",
# "segment" and "comment" keep their "-ment").
_DERIVATIONAL: tuple[tuple[str, int], ...] = (
    ("izations", 3),
    ("ization", 3),
    ("ations", 3),
    ("ation", 3),
    ("ments", 5),
    ("ment", 5),
    ("izer", 3),
    ("ize", 3),
    ("ions", 3),
    ("ion", 3),
    ("ness", 3),
    ("ably", 3),
    ("ibly", 3),
    ("able", 3),
    ("ible", 3),
    ("ally", 3),
    ("ate", 3),
    ("ful", 3),
    ("ly", 3),
)


def _has_vowel(s: str) -> bool:
    return any(c in _VOWELS for c in s)


# Irregular and short verb forms the suffix rules can't reach (took → take, making → make,
# used → use): mapped to the base form before stemming. The past forms of the verbs of making
# (built, wrote, made) are deliberately kept apart: "the app you built" is about something that
# exists, "build us an app" asks for something new.
_IRREGULAR: dict[str, str] = {
    form: base
    for base, forms in (
        ("make", "making"),
        ("take", "took taken taking"),
        ("give", "gave given giving"),
        ("run", "ran running"),
        ("send", "sent"),
        ("spend", "spent"),
        ("bring", "brought"),
        ("buy", "bought"),
        ("teach", "taught"),
        ("think", "thought"),
        ("catch", "caught"),
        ("keep", "kept"),
        ("lose", "lost losing"),
        ("break", "broke broken"),
        ("choose", "chose chosen"),
        ("freeze", "froze frozen"),
        ("fall", "fell fallen"),
        ("forget", "forgot forgotten"),
        ("throw", "threw thrown"),
        ("show", "shown"),
        ("grow", "grew grown"),
        ("know", "knew known"),
        ("begin", "began begun"),
        ("tell", "told"),
        ("sell", "sold"),
        ("find", "found"),
        ("pay", "paid"),
        ("understand", "understood"),
        ("stand", "stood"),
        ("hang", "hung"),
        ("lead", "led"),
        ("mean", "meant"),
        ("use", "used using uses"),
        ("come", "came coming"),
        ("go", "went gone going"),
        ("see", "saw seen seeing"),
        ("swap", "swapped swapping"),
    )
    for form in forms.split()
}


def stem(word: str) -> str:
    """A light, deterministic stemmer: configure/configured/configuration → configur."""
    w = _IRREGULAR.get(word, word)
    if len(w) <= 3 or not w.isalpha():
        return w
    # plurals and third person
    if w.endswith("ies") and len(w) > 4:
        w = w[:-3] + "y"
    elif w.endswith("sses"):
        w = w[:-2]
    elif w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    # past tense and gerund; put back the "e" of -ate/-ize/-ble (validated → validate)
    # (a stem must keep 4 letters after -ing, so "setting" stays apart from "set")
    for suffix, shortest in (("ing", 4), ("ed", 3)):
        rest = w[: -len(suffix)]
        if len(rest) > 3 and rest[-1] == rest[-2] and rest[-1] not in _VOWELS:
            rest_undoubled = rest[:-1]
        else:
            rest_undoubled = rest
        if w.endswith(suffix) and len(rest_undoubled) >= shortest and _has_vowel(rest):
            w = rest
            if w.endswith(("at", "iz", "bl")):
                w += "e"
            break
    # derivational endings, at most two (implementation → implement → imple)
    for _ in range(2):
        for suffix, shortest in _DERIVATIONAL:
            rest = w[: -len(suffix)]
            if w.endswith(suffix) and len(rest) >= shortest and _has_vowel(rest):
                w = rest
                break
        else:
            break
    if w.endswith("y") and len(w) > 4:
        w = w[:-1] + "i"
    if w.endswith("e") and len(w) > 4:
        w = w[:-1]
    # undouble a final consonant: cancell → cancel, install → instal, stopp → stop
    if len(w) > 3 and w[-1] == w[-2] and w[-1] not in _VOWELS:
        w = w[:-1]
    return w


@dataclass(frozen=True, slots=True)
class _Token:
    stem: str
    raw: str  # the word in American spelling, before stemming (for typo matching)
    word: int  # index into the surface words
    stop: bool
    negated: bool


_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)*|[.,;:!?()\[\]]")
_BOUNDARY = frozenset(".,;:!?()[]")
_RESET_WORDS = frozenset({"but", "however", "though", "although", "instead"})
_CONTRACTIONS = {"ca": "can", "wo": "will", "sha": "shall"}
_AUXILIARIES = {"ve": "have", "re": "are", "ll": "will", "d": "would"}
# Chat shorthand: "can u build …", "ur docs", "havent got the ppl".
_SHORTHAND = {
    "u": "you",
    "ya": "you",
    "ur": "your",
    "cos": "because",
    "cuz": "because",
    "coz": "because",
    "ppl": "people",
    "thx": "thanks",
    "abt": "about",
    "w": "with",
    "incl": "including",
}
# Contractions typed without the apostrophe ("doesnt", "cant", "isnt"): word → its base.
_BARE_CONTRACTIONS: dict[str, str] = {
    "dont": "do",
    "doesnt": "does",
    "didnt": "did",
    "cant": "can",
    "couldnt": "could",
    "wont": "will",
    "wouldnt": "would",
    "shouldnt": "should",
    "isnt": "is",
    "arent": "are",
    "wasnt": "was",
    "werent": "were",
    "havent": "have",
    "hasnt": "has",
    "hadnt": "had",
    "mustnt": "must",
    "neednt": "need",
    "aint": "is",
}
# Adverbs between a negator and what it negates ("don't really need").
_NEGATION_ADVERBS = frozenset({"really", "actually", "even", "just", "necessarily", "strictly"})


def _normalise_text(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("`", "'").casefold()
    return text.replace("\u00f8", "o").replace("\u00e6", "ae").replace("\u00df", "ss")


def _words(text: str) -> list[tuple[str, str]]:
    """(word, surface) pairs; boundaries are kept as their punctuation; "don't" → do, not."""
    out: list[tuple[str, str]] = []
    for raw in _WORD.findall(_normalise_text(text)):
        if raw.endswith("n't"):
            base = raw[:-3]
            out += [(_CONTRACTIONS.get(base, base), raw), ("not", raw)]
        elif raw == "cannot":
            out += [("can", raw), ("not", raw)]
        elif raw in _BARE_CONTRACTIONS:
            out += [(_BARE_CONTRACTIONS[raw], raw), ("not", raw)]
        elif "'" in raw and raw.split("'", 1)[1] in _AUXILIARIES:
            base, tail = raw.split("'", 1)  # "you've" → you, have: "you've built" is a perfect
            out += [(base, raw), (_AUXILIARIES[tail], raw)]
        else:
            word = raw.split("'", 1)[0]
            out.append((_SHORTHAND.get(word, word), raw))
    return out


def _tokenize(text: str, surfaces: list[str] | None = None) -> list[_Token]:
    """Stems with stop-word and negation flags.

    Negation is read narrowly, because customers describe failures with it ("users can't
    sync", "it doesn't start"): "not/never" negates the next few content words only when what
    follows is about wanting or being something ("don't need a …", "not a hardware issue",
    "not caused by …"); "no/without" negate the very next content word ("no custom code").
    """
    words = _words(text)
    tokens: list[_Token] = []
    reach = 0  # content tokens still covered by a negation
    pending = False  # just saw "not"/"never": the next word decides whether it negates
    for n, (word, surface) in enumerate(words):
        if word in _BOUNDARY or word in _RESET_WORDS:
            reach, pending = 0, False
            if word in _BOUNDARY:
                continue
        index = len(tokens)
        if surfaces is not None:
            index = len(surfaces)
            surfaces.append(surface)
        if pending and word not in _NEGATION_ADVERBS:
            pending = False
            reach = _NEGATION_REACH if word in _NEGATION_TOPIC_VERBS else 0
        if word in _NEGATORS:
            following = words[n + 1][0] if n + 1 < len(words) else ""
            if word in {"no", "without"}:
                reach, pending = (0 if following in _NOT_NEGATING_AFTER_NO else 1), False
            else:
                reach, pending = 0, True
            tokens.append(_Token("not", "not", index, stop=False, negated=False))
            continue
        american = americanise(word)
        stop = word in _STOP_WORDS
        tokens.append(
            _Token(american if stop else stem(american), american, index, stop, reach > 0)
        )
        if reach and not stop:
            reach -= 1
    return tokens


def normalise_words(text: str) -> tuple[str, ...]:
    """The stems the engine sees for `text` (for debugging packs and tests)."""
    return tuple(t.stem for t in _tokenize(text) if not t.stop)


# ---- compiled matcher -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Term:
    concept: str
    stems: tuple[str, ...]  # content and stop stems, in order
    stop: tuple[bool, ...]
    has_negator: bool


@dataclass(frozen=True, slots=True)
class _Compiled:
    by_first: Mapping[str, tuple[_Term, ...]]
    vocabulary: frozenset[str]
    # one-letter deletions of vocabulary words (stemmed, and as written) → (word, its stem)
    deletes: Mapping[str, frozenset[tuple[str, str]]]


def _deletions(s: str) -> set[str]:
    return {s[:i] + s[i + 1 :] for i in range(len(s))}


def _one_edit_apart(a: str, b: str) -> bool:
    """True if `a` becomes `b` by one insertion, deletion, substitution or swap of neighbours."""
    if a == b or abs(len(a) - len(b)) > 1:
        return a == b
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    if len(a) < len(b):
        return a[i:] == b[i + 1 :]
    return a[i + 1 :] == b[i + 1 :] or (
        i + 1 < len(a) and a[i] == b[i + 1] and a[i + 1] == b[i] and a[i + 2 :] == b[i + 2 :]
    )


def _compile(concepts: Mapping[str, Sequence[str]]) -> _Compiled:
    by_first: dict[str, list[_Term]] = {}
    vocabulary: set[str] = set()
    spellings: set[tuple[str, str]] = set()  # (word as written or stemmed, its stem)
    seen: set[tuple[str, tuple[str, ...]]] = set()

    def add(concept: str, phrase: str, typos: bool = True) -> None:
        toks = _tokenize(phrase)
        if not toks:
            return
        content = [t for t in toks if not t.stop and t.stem != "not"]
        vocabulary.update(t.stem for t in content)
        if typos:
            spellings.update((w, t.stem) for t in content for w in (t.stem, t.raw))
        stems = tuple(t.stem for t in toks)
        if (concept, stems) in seen:
            return
        seen.add((concept, stems))
        term = _Term(concept, stems, tuple(t.stop for t in toks), "not" in stems)
        by_first.setdefault(stems[0], []).append(term)

    for name, terms in concepts.items():
        for phrase in terms:
            add(name, phrase)
            words = re.findall(r"[a-z0-9]+", _normalise_text(phrase))
            if 2 <= len(words) <= 3:  # "set up" also as "setup", "on site" as "onsite"
                add(name, "".join(words), typos=False)  # an invented word: no typos of it
    deletes: dict[str, set[tuple[str, str]]] = {}
    for word, word_stem in spellings:
        if len(word) >= _TYPO_MIN and word.isalpha():
            for d in _deletions(word) | {word}:
                deletes.setdefault(d, set()).add((word, word_stem))
    return _Compiled(
        by_first={k: tuple(v) for k, v in by_first.items()},
        vocabulary=frozenset(vocabulary),
        deletes={k: frozenset(v) for k, v in deletes.items()},
    )


@dataclass(frozen=True, slots=True)
class _Hit:
    factor: float  # 1.0 exact, less for typo matches
    start: int  # surface word span
    end: int


def _alternatives(tok: _Token, compiled: _Compiled) -> dict[str, float]:
    """The stems a token stands for: itself, and vocabulary one typo away (as stem or word)."""
    alts = {tok.stem: 1.0}
    if tok.stop or tok.stem in compiled.vocabulary or not tok.raw.isalpha():
        return alts
    for s in {tok.stem, tok.raw}:
        if len(s) < _TYPO_MIN:
            continue
        for d in _deletions(s) | {s}:
            for word, word_stem in compiled.deletes.get(d, frozenset()):
                if word[0] == s[0] and _one_edit_apart(word, s):
                    alts.setdefault(word_stem, _FUZZY_FACTOR)
    return alts


def _find_concepts(text: str, compiled: _Compiled) -> tuple[dict[str, list[_Hit]], list[str]]:
    """Every place each concept occurs (surface word spans), best first."""
    surfaces: list[str] = []
    tokens = _tokenize(text, surfaces)
    alts = [_alternatives(t, compiled) for t in tokens]
    hits: dict[str, list[_Hit]] = {}
    for i in range(len(tokens)):
        for first, f0 in alts[i].items():
            for term in compiled.by_first.get(first, ()):
                factor, last, negated = f0, i, tokens[i].negated
                ok = True
                for k in range(1, len(term.stems)):
                    want = term.stems[k]
                    found = -1
                    if want in _PARTICLES:
                        gap = _PARTICLE_GAP
                    elif term.stop[k]:
                        gap = _STOP_GAP
                    else:
                        gap = _MAX_GAP
                    for j in range(last + 1, min(len(tokens), last + 2 + gap)):
                        if want in alts[j]:
                            found = j
                            break
                    if found < 0:
                        ok = False
                        break
                    factor = min(factor, alts[found][want])
                    negated = negated or (tokens[found].negated and not term.stop[k])
                    last = found
                if not ok or (negated and not term.has_negator):
                    continue
                hits.setdefault(term.concept, []).append(
                    _Hit(factor, tokens[i].word, tokens[last].word)
                )
    for places in hits.values():
        places.sort(key=lambda h: (-h.factor, h.start - h.end, h.start))
    return hits, surfaces


# ---- deciding -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Match:
    rule: ScopeRule
    score: float
    matched: tuple[str, ...]
    strongest: float = 0.0  # the weightiest single concept of the pattern (intent beats topic)

    def beats(self, other: _Match) -> bool:
        """Strictly stronger evidence: a higher score, or as high with a weightier cue."""
        if abs(self.score - other.score) > _EPS:
            return self.score > other.score
        return self.strongest > other.strongest + _EPS


def _norm_case_type(name: str) -> str:
    return re.sub(r"[\s_]+", "-", name.strip().casefold())


def _applies(rule: ScopeRule, case_type: str | None) -> bool:
    if case_type is None or not rule.case_types:
        return True
    return _norm_case_type(case_type) in {_norm_case_type(c) for c in rule.case_types}


def _placement(
    pattern: Sequence[str], hits: Mapping[str, list[_Hit]], within: int | None
) -> tuple[_Hit, ...] | None:
    """One hit per concept of a complete pattern — different words for different concepts,
    and within `within` words of each other if set; None if impossible."""
    if not all(c in hits for c in pattern):
        return None
    choice: tuple[_Hit, ...] | None = None
    for combo in product(*(hits[c][:8] for c in pattern)):
        spans = sorted((h.start, h.end) for h in combo)
        if any(a[1] >= b[0] for a, b in pairwise(spans)):
            continue  # one word can't stand for two concepts ("build us" ≠ "build" + "us")
        if within is not None and spans[-1][1] - spans[0][0] + 1 > within:
            continue
        if choice is None or sum(h.factor for h in combo) > sum(h.factor for h in choice):
            choice = combo
            if within is None and all(h.factor == 1.0 for h in combo):
                break
    return choice


def _evaluate(
    section: ScopeSection,
    hits: Mapping[str, list[_Hit]],
    surfaces: Sequence[str],
    rule: ScopeRule,
) -> tuple[_Match | None, bool]:
    """(full match or None, whether an `ask_when` concept is present)."""

    def phrase(h: _Hit) -> str:
        return " ".join(surfaces[h.start : h.end + 1])

    if any(c in hits for c in rule.unless):
        return None, False
    best: _Match | None = None
    boosts = [hits[c][0] for c in rule.boost if c in hits]
    for pattern in rule.patterns:
        placed = _placement(pattern.concepts, hits, pattern.within)
        if placed is not None:
            score = sum(
                section.concepts[c].weight * h.factor
                for c, h in zip(pattern.concepts, placed, strict=True)
            )
            score += _BOOST * len(boosts)
            strongest = max(
                section.concepts[c].weight * h.factor
                for c, h in zip(pattern.concepts, placed, strict=True)
            )
            used = [*placed, *boosts]
            match = _Match(rule, score, tuple(dict.fromkeys(phrase(h) for h in used)), strongest)
            if best is None or match.beats(best):
                best = match
    return best, any(c in hits for c in rule.ask_when)


def _governed_by(section: ScopeSection, question: ScopeQuestion) -> set[str]:
    """The rules a question settles: those its options name and those that ask it."""
    named = {o.rule for o in question.options if o.rule is not None}
    return named | {rid for rid, r in section.rules.items() if r.question == question.id}


def _answered(
    section: ScopeSection, answers: Mapping[str, str] | None
) -> tuple[dict[str, ScopeOption], set[str]]:
    """The valid answers given (question id → option), and the rule ids they govern."""
    chosen: dict[str, ScopeOption] = {}
    governed: set[str] = set()
    for qid, answer in (answers or {}).items():
        question = section.questions.get(qid)
        if question is None:
            continue  # an answer to some other intake question: not ours
        option = question.option(answer)
        if option is None:
            valid = ", ".join(o.id for o in question.options)
            raise CaseFactsError(
                f"{answer!r} is not an answer to scope question {qid!r}; answers: {valid}"
            )
        chosen[qid] = option
        if option.rule is None:
            continue
        governed |= _governed_by(section, question)
    return chosen, governed


def _from_rule(
    rule: ScopeRule,
    confident: bool,
    question: ScopeQuestion | None,
    matched: tuple[str, ...],
) -> ScopeDecision:
    return ScopeDecision(
        decision=rule.decision,
        rule=rule.id,
        clause=rule.clause,
        explanation=rule.explanation,
        confident=confident,
        question=question,
        matched=matched,
        alternative=rule.alternative,
    )


def decide_scope(
    section: ScopeSection,
    text: str,
    answers: Mapping[str, str] | None = None,
    case_type: str | None = None,
) -> ScopeDecision:
    """Decide whether `text` (plus any structured `answers`) is in scope under `section`.

    `answers` maps a scope question id to the chosen option id (or its label); answers to
    questions this section doesn't have are ignored (they belong to other intake steps).
    `case_type` (e.g. "query") limits the rules to those that apply to it.
    """
    compiled = section.compiled()
    hits, surfaces = _find_concepts(text, compiled)
    chosen, governed = _answered(section, answers)
    asked = set(chosen)

    def ask(qid: str | None) -> ScopeQuestion | None:
        if qid is None or qid in asked:
            return None
        return section.questions.get(qid)

    matches: list[_Match] = []
    hinted: list[ScopeRule] = []  # rules an `ask_when` concept hints at
    for rule in section.rules.values():
        if not _applies(rule, case_type) or rule.id in governed:
            continue
        full, hint = _evaluate(section, hits, surfaces, rule)
        if full is not None:
            matches.append(full)
        elif hint:
            hinted.append(rule)

    # Structured answers first: they decide over words on the rules their questions govern.
    forced = [
        _Match(section.rules[opt.rule], float("inf"), (f"{qid}={opt.id}",))
        for qid, opt in chosen.items()
        if opt.rule is not None and _applies(section.rules[opt.rule], case_type)
    ]
    if forced:
        # Several answers: the most restrictive wins (an answer pointing to consulting means
        # the request needs consulting even if another answer, alone, would keep it in scope).
        # A strong word match on a rule no answered question governs may still be stricter.
        pool = forced + [m for m in matches if m.score >= 1.0]
        top = max(pool, key=lambda m: (_RESTRICTIVENESS[m.rule.decision], m.score))
        return _from_rule(top.rule, True, None, top.matched)

    # Precedence: a rule drops the rules it overrides — unless the overridden rule has strictly
    # stronger evidence (an intent cue beats a topic: "fix our Oracle database" is about the
    # database even though "Oracle" is also a built-in connector).
    matches = [
        m
        for m in matches
        if not any(m.rule.id in o.rule.overrides and not m.beats(o) for o in matches)
    ]

    if not matches:
        question = next((q for r in hinted if (q := ask(r.question))), None)
        return ScopeDecision(
            decision=section.default,
            rule=None,
            clause=section.default_clause,
            explanation=section.default_explanation,
            confident=False,
            question=question or ask(section.default_question),
            matched=(),
        )

    matches.sort(key=lambda m: (-m.score, -m.strongest, -_RESTRICTIVENESS[m.rule.decision]))
    top = matches[0]
    # A rival deciding otherwise that is nearly as strong, on cues as weighty, leaves us unsure.
    tied = [
        m
        for m in matches[1:]
        if m.rule.decision != top.rule.decision
        and top.score - m.score < _CLOSE - _EPS
        and top.strongest - m.strongest < _CLOSE - _EPS
    ]
    if tied:
        # Rules with different decisions, about equally strong: ask rather than guess. The
        # tentative decision is the stricter one, so nothing is promised that isn't owed.
        # Ask the question that tells the most of the tied rules apart.
        contenders = {m.rule.id for m in (top, *tied)}
        questions = [q for m in (top, *tied) if (q := ask(m.rule.question)) is not None]
        question = max(
            questions, key=lambda q: len(contenders & _governed_by(section, q)), default=None
        )
        strict = max((top, *tied), key=lambda m: (_RESTRICTIVENESS[m.rule.decision], m.score))
        return _from_rule(strict.rule, False, question, strict.matched)
    if top.rule.needs_answer and ask(top.rule.question) is not None:
        return _from_rule(top.rule, False, ask(top.rule.question), top.matched)
    if top.score < 1.0:
        # Only weak, generic words matched: a hint at a rule deciding otherwise earns a question.
        rival = next(
            (r for r in hinted if r.decision != top.rule.decision and ask(r.question)), None
        )
        if rival is not None:
            return _from_rule(top.rule, False, ask(rival.question), top.matched)
    return _from_rule(top.rule, True, None, top.matched)


# ---- the matcher, for other readers of free text --------------------------------------------


@dataclass(frozen=True, slots=True)
class PhraseHit:
    """Where a phrase of a named set was found: surface word span, inclusive; `exact` is
    False when only a one-letter typo matched."""

    name: str
    start: int
    end: int
    exact: bool

    def within(self, other: PhraseHit) -> bool:
        return other.start <= self.start and self.end <= other.end and (
            (other.end - other.start) > (self.end - self.start))


class PhraseMatcher:
    """Named phrase sets matched the way scope concepts are (stems, spelling, typos, narrow
    negation), so the intake reads customers' words with the same engine as the scope rules."""

    def __init__(self, sets: Mapping[str, Sequence[str]]) -> None:
        self._compiled = _compile(sets)

    def find(self, text: str) -> tuple[list[PhraseHit], list[str]]:
        """Every hit (a phrase inside a longer hit of another set is dropped: "not down" is
        not "down"), and the surface words the spans index."""
        found, surfaces = _find_concepts(text, self._compiled)
        hits = [PhraseHit(name, h.start, h.end, h.factor >= 1.0)
                for name, places in found.items() for h in places]
        kept = [h for h in hits
                if not any(o.name != h.name and h.within(o) for o in hits)]
        return sorted(kept, key=lambda h: (h.start, h.end)), surfaces
