"""Intent matching over the table of paraphrases (`support_agent/data/paraphrases.tsv`).

A message is normalised the way the table is written (order numbers become `#`, a new address `<address>`,
words the table does not know, such as product names, `<item>`), then scored against every paraphrase with
rapidfuzz. The best score per intent is the model's confidence in it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

from rapidfuzz import fuzz, process

from support_agent.models import wording

NUMBER, ADDRESS, ITEM = "#", "<address>", "<item>"
REFERENCE = "it"  # an order number, and "it", "its", "that one": the order meant
_PLACEHOLDERS = frozenset({NUMBER, ADDRESS, ITEM})
_TOKEN = re.compile(r"<address>|<item>|#|[a-z]+")
_SPELLING = 85  # how close a misspelt word must be to a known one to count as it
# A paraphrase shares a telling word with a message when the word is used by few intents (see `_weights`);
# without one, the paraphrase cannot be close.
_TELLING = 1.5
_UNTELLING_CAP = 60.0
_NEGATIONS = frozenset({"not", "never", "no"})


@dataclass(frozen=True, slots=True)
class Paraphrase:
    """One line of the table."""

    intent: str
    phrase: str


@dataclass(frozen=True, slots=True)
class Match:
    """How well a message matches an intent: `score` 0-100, from its closest paraphrase."""

    intent: str
    score: float
    paraphrase: str


def parse_table(text: str) -> list[Paraphrase]:
    """The paraphrases in a table's text (`intent<TAB>phrase` lines; `#` lines outside phrases are comments).

    Raises:
        ValueError: A line is not `intent<TAB>phrase`.
    """
    rows: list[Paraphrase] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("# "):
            continue
        intent, tab, phrase = line.partition("\t")
        if not tab or not intent.strip() or not phrase.strip():
            raise ValueError(f"paraphrase table line {number} is not 'intent<TAB>phrase': {line!r}")
        rows.append(Paraphrase(intent.strip(), phrase.strip().lower()))
    return rows


@cache
def table() -> tuple[Paraphrase, ...]:
    """The packaged paraphrase table."""
    text = resources.files("support_agent").joinpath("data/paraphrases.tsv").read_text("utf-8")
    return tuple(parse_table(text))


@cache
def _vocabulary() -> frozenset[str]:
    words = (word for row in table() for word in _TOKEN.findall(wording.plain(row.phrase)))
    return frozenset(words) - _PLACEHOLDERS


@cache
def _normalised_table() -> tuple[tuple[str, ...], tuple[str, ...]]:
    rows = table()
    return tuple(row.intent for row in rows), tuple(normalise(row.phrase) for row in rows)


def _known(word: str, vocabulary: frozenset[str]) -> str | None:
    """`word`, or the known word it is a misspelling of, or None for a word the table does not use."""
    if word in vocabulary or word in _PLACEHOLDERS:
        return word
    for stem in _stems(word):
        if stem in vocabulary:
            return stem
    if len(word) < 5:
        return None
    found = process.extractOne(word, vocabulary, scorer=fuzz.ratio, score_cutoff=_SPELLING)
    return found[0] if found else None


def _stems(word: str) -> list[str]:
    """Other forms of `word` the table may use: "orders" is "order", "shipping" "ship", "arrived" "arrive"."""
    forms: list[str] = []
    for suffix, replacements in (
        ("ies", ("y",)),
        ("es", ("", "e")),
        ("s", ("",)),
        ("ed", ("", "e")),
        ("ing", ("", "e")),
        ("ly", ("",)),
    ):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            forms.extend(word[: -len(suffix)] + tail for tail in replacements)
    return forms


def normalise(text: str) -> str:
    """`text` as the table writes it: in plain wording (`wording.plain`), unknown words as one `<item>`."""
    lowered = wording.plain(text)
    vocabulary = _vocabulary()
    # An order is an order, named by number or as "it": "what about it" asks what "what about order #" does.
    lowered = re.sub(r"\b(?:order|orders|number|no)\s+#", "#", lowered).replace("#", f" {REFERENCE} ")
    words: list[str] = []
    for token in _TOKEN.findall(lowered):
        word = _known(token, vocabulary) or ITEM
        if not (word == ITEM and words and words[-1] == ITEM):
            words.append(word)
    return " ".join(words)


def score(normalised: str, phrase: str) -> float:
    """How close a normalised message is to a normalised paraphrase, 0-100.

    The word-order-free ratio, raised towards the set ratio when the paraphrase is wholly inside the message
    ("I want a refund for order #, it arrived broken" contains "i want a refund"), so longer messages still
    match the short way the table says things.
    """
    return _score(_Words.of(normalised), _Words.of(phrase))


@dataclass(frozen=True, slots=True)
class _Words:
    """A normalised text and what `score` reads of its words, worked out once (a message is scored against
    every paraphrase; a paraphrase against every message)."""

    text: str
    words: set[str]
    weight: float
    negated: bool

    @classmethod
    def of(cls, text: str) -> _Words:
        weights = _weights()
        words = set(text.split())
        return cls(text, words, sum(weights.get(word, 1.0) for word in words), bool(words & _NEGATIONS))


def _score(said: _Words, written: _Words) -> float:
    if said.text == written.text:
        return 100.0
    if said.negated != written.negated:
        # "it was not delivered" is not "was it delivered", however alike their letters.
        return _overlap(said, written)
    sort = fuzz.token_sort_ratio(said.text, written.text)
    inside = fuzz.token_set_ratio(said.text, written.text)
    value = max(sort, 0.6 * inside + 0.4 * sort, _overlap(said, written))
    # Sharing only small words and placeholders ("what is the <item>") says nothing about the intent.
    weights = _weights()
    shared = said.words & written.words - _PLACEHOLDERS
    if not any(weights.get(word, 0.0) >= _TELLING for word in shared):
        value = min(value, _UNTELLING_CAP)
    return value


@cache
def _weights() -> dict[str, float]:
    """How much each word of the table says about the intent: words used by few intents say the most."""
    intents_using: dict[str, set[str]] = {}
    for intent, phrase in zip(*_normalised_table(), strict=True):
        for word in phrase.split():
            intents_using.setdefault(word, set()).add(intent)
    total = len({row.intent for row in table()})
    return {word: math.log(1 + total / len(used)) for word, used in intents_using.items()}


def overlap(normalised: str, phrase: str) -> float:
    """The share of weighted words a message and a paraphrase have in common, 0-100 (weighted F1)."""
    return _overlap(_Words.of(normalised), _Words.of(phrase))


def _overlap(said: _Words, written: _Words) -> float:
    if not said.words or not written.words:
        return 0.0
    weights = _weights()
    common = sum(weights.get(word, 1.0) for word in said.words & written.words)
    precision = common / said.weight
    recall = common / written.weight
    return 0.0 if common == 0 else 200 * precision * recall / (precision + recall)


def matches(normalised: str) -> list[Match]:
    """The best match per intent for a normalised message, best first."""
    return list(_table_matches(normalised))


@lru_cache(maxsize=1024)
def _table_matches(normalised: str) -> tuple[Match, ...]:
    """`matches`, kept for the messages read last: scoring every paraphrase is most of the offline model's
    time, and a turn reads one message in several model calls."""
    said = _Words.of(normalised)
    best: dict[str, Match] = {}
    for intent, written in _table_words():
        value = _score(said, written)
        if intent not in best or value > best[intent].score:
            best[intent] = Match(intent, value, written.text)
    return tuple(sorted(best.values(), key=lambda match: match.score, reverse=True))


@cache
def _table_words() -> tuple[tuple[str, _Words], ...]:
    return tuple((intent, _Words.of(phrase)) for intent, phrase in zip(*_normalised_table(), strict=True))
