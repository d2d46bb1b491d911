"""Intent matching over the table of paraphrases (`support_agent/data/paraphrases.tsv`).

A message is normalised the way the table is written (order numbers become `#`, a new address `<address>`,
words the table does not know, such as product names, `<item>`), then scored against every paraphrase with
rapidfuzz. The best score per intent is the model's confidence in it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
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
    if normalised == phrase:
        return 100.0
    said, written = set(normalised.split()), set(phrase.split())
    if bool(said & _NEGATIONS) != bool(written & _NEGATIONS):
        # "it was not delivered" is not "was it delivered", however alike their letters.
        return overlap(normalised, phrase)
    sort = fuzz.token_sort_ratio(normalised, phrase)
    inside = fuzz.token_set_ratio(normalised, phrase)
    value = max(sort, 0.6 * inside + 0.4 * sort, overlap(normalised, phrase))
    # Sharing only small words and placeholders ("what is the <item>") says nothing about the intent.
    weights = _weights()
    shared = said & written - _PLACEHOLDERS
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
    weights = _weights()
    said, written = set(normalised.split()), set(phrase.split())
    if not said or not written:
        return 0.0
    common = sum(weights.get(word, 1.0) for word in said & written)
    precision = common / sum(weights.get(word, 1.0) for word in said)
    recall = common / sum(weights.get(word, 1.0) for word in written)
    return 0.0 if common == 0 else 200 * precision * recall / (precision + recall)


def matches(normalised: str, rows: Iterable[tuple[str, str]] | None = None) -> list[Match]:
    """The best match per intent for a normalised message, best first."""
    pairs = list(rows) if rows is not None else list(zip(*_normalised_table(), strict=True))
    best: dict[str, Match] = {}
    for intent, phrase in pairs:
        value = score(normalised, phrase)
        if intent not in best or value > best[intent].score:
            best[intent] = Match(intent, value, phrase)
    return sorted(best.values(), key=lambda match: match.score, reverse=True)
