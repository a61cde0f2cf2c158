"""From how a customer writes to an FTS5 query: the words that carry meaning, British spelling
made American (the index holds both), and the synonyms the customer's policy pack already
carries:

- the cues of its intake fields' options and known values, each a set of names for one thing
  (QSCIM's "Entra" for "Azure AD", "on-prem" for "On-premises");
- from its scope concepts (lists of the words customers use for one idea), only the words that
  are the same word shortened or grown ("sync" for "synchronisation", "config" for
  "configuration"): a concept's other words are related ideas, not synonyms, and would
  widen a search too far.

Stemming is FTS5's own (the porter tokenizer), on the documents and on these words alike.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from policy.pack import Pack
from policy.scope import americanise

# Words that say nothing about what an article is about: function words, how people ask, and
# how they talk about themselves and their case.
_STOP_TEXT = """
a about above after again against all also am an and any are as at be because been before
being below between both but by can could did do does doing done during each either else ever
every few for from further get gets getting got had has have having he her here hers him his
how i if in into is it its itself just let lets like may me might more most much must my
myself no nor not now of off on once one only or other our ours ourselves out over own per
please same shall she should since so some still such than that the their theirs them then
there these they this those though through thus to too under until up upon us very was we
were what when where whether which while who whom whose why will with within without would
yet you your yours yourself hi hello hey thanks thank regards kindly pls plz ok okay
im ive id dont doesnt didnt isnt arent wasnt cant wont shouldnt youre were weve theyre
want wants wanted need needs needed know tell explain help question questions wondering
anyone someone something anything thing things way ways possible right really actually
currently today tomorrow yesterday maybe sure use using used make makes made go going
"""
STOP_WORDS = frozenset(_STOP_TEXT.split())
_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
_APOSTROPHE = re.compile(r"['’]")


def tokens(text: str) -> list[str]:
    """Lower-case words and numbers as FTS5's unicode61 tokenizer splits them (so "Retry-After"
    is two words), contractions joined ("doesn't" → "doesnt")."""
    return [_american(t) for t in _TOKEN.findall(_APOSTROPHE.sub("", text.lower()))]


def american_variants(text: str) -> str:
    """The American spelling of each British word of `text` ("licence colour" → "license
    color"), once each: indexed beside an article's own words."""
    seen: dict[str, None] = {}
    for word in set(_TOKEN.findall(_APOSTROPHE.sub("", text.lower()))):
        american = _american(word)
        if american != word:
            seen.setdefault(american, None)
    return " ".join(sorted(seen))


@functools.lru_cache(maxsize=65536)
def _american(word: str) -> str:
    return americanise(word)


def content_words(text: str) -> list[str]:
    """The words of `text` that carry meaning, in order, each once."""
    seen: dict[str, None] = {}
    for word in tokens(text):
        if word not in STOP_WORDS and (len(word) > 1 or word.isdigit()):
            seen.setdefault(word, None)
    return list(seen)


Phrase = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Synonyms:
    """Groups of phrases that name the same thing; a phrase in a query brings in the others."""

    groups: tuple[tuple[Phrase, ...], ...] = ()
    # word → the same word shortened or grown, from the pack's concepts
    variants: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def none(cls) -> Synonyms:
        return _NONE

    def expand(self, words: Sequence[str]) -> list[tuple[Phrase, tuple[Phrase, ...]]]:
        """For each group a phrase of which occurs in `words`: (the phrase found, the group's
        other phrases)."""
        out: list[tuple[Phrase, tuple[Phrase, ...]]] = []
        singular = [_singular(w) for w in words]
        for group in self.groups:
            for phrase in group:
                if _contains(singular, tuple(_singular(w) for w in phrase)):
                    out.append((phrase, tuple(p for p in group if p != phrase)))
                    break
        taken = {w for phrase, _ in out for w in phrase}
        for word in words:
            if word not in taken and word in self.variants:
                out.append(((word,), tuple((v,) for v in self.variants[word])))
        return out


_NONE = Synonyms()


def _singular(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") \
        else word


def _contains(words: Sequence[str], phrase: Phrase) -> bool:
    n = len(phrase)
    return n > 0 and any(tuple(words[i:i + n]) == phrase for i in range(len(words) - n + 1))


def _phrases(texts: Iterable[str]) -> tuple[Phrase, ...]:
    seen: dict[Phrase, None] = {}
    for text in texts:
        phrase = tuple(tokens(text))
        if phrase and not (len(phrase) == 1 and phrase[0] in STOP_WORDS):
            seen.setdefault(phrase, None)
    return tuple(seen)


_SYNONYMS: dict[str, tuple[Pack, Synonyms]] = {}


def synonyms_of(pack: Pack) -> Synonyms:
    """The synonym groups a pack carries (built once per pack)."""
    known = _SYNONYMS.get(pack.id)
    if known is not None and known[0] is pack:
        return known[1]
    groups: list[tuple[Phrase, ...]] = []
    for spec in pack.intake.values():
        for option in (*spec.options, *spec.known):
            group = _phrases((option.label, *option.cues))
            if len(group) > 1:
                groups.append(group)
    for words in pack.understanding.environments.values():
        group = _phrases(words)
        if len(group) > 1:
            groups.append(group)
    built = Synonyms(tuple(groups), _variants(pack))
    _SYNONYMS[pack.id] = (pack, built)
    return built


VARIANT_MIN = 4  # letters of the shorter word, when one word is the other shortened


def _variants(pack: Pack) -> dict[str, tuple[str, ...]]:
    """Within each scope concept, the one-word terms that are one another shortened ("sync"
    of "synced", of "synchronization"), linked through each other: one word's forms."""
    out: dict[str, set[str]] = {}
    for concept in pack.scope.concepts.values():
        words = sorted({t[0] for t in (tuple(tokens(term)) for term in concept.terms)
                        if len(t) == 1 and len(t[0]) >= VARIANT_MIN})
        family = {w: {w} for w in words}
        for a in words:
            for b in words:
                if a < b and (b.startswith(a) or a.startswith(b)):
                    joined = family[a] | family[b]
                    for w in joined:
                        family[w] = joined
        for word in words:
            if len(family[word]) > 1:
                out.setdefault(word, set()).update(family[word] - {word})
    return {word: tuple(sorted(same)) for word, same in out.items()}


def quoted(phrase: Phrase) -> str:
    """A phrase as an FTS5 string (a phrase query when it has several words)."""
    return '"' + " ".join(phrase).replace('"', "") + '"'
