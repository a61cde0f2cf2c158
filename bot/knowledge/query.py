"""From how a customer writes to an FTS5 query: the words that carry meaning, British spelling
made American (the documents' own), and the synonyms the customer's policy pack already
carries — the cues of its intake fields' options and known values (QSCIM's "Entra" for "Azure
AD", "on-prem" for "On-premises") and its environment words ("prod", "live"). Stemming is
FTS5's own (the porter tokenizer), on the documents and on these words alike.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

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
    built = Synonyms(tuple(groups))
    _SYNONYMS[pack.id] = (pack, built)
    return built


def quoted(phrase: Phrase) -> str:
    """A phrase as an FTS5 string (a phrase query when it has several words)."""
    return '"' + " ".join(phrase).replace('"', "") + '"'
