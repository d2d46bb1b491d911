"""Intent matching over the table of paraphrases (`support_agent/data/paraphrases.tsv`).

A message is normalised the way the table is written (order numbers become `#`, a new address `<address>`,
words the table does not know, such as product names, `<item>`), then scored against every paraphrase with
rapidfuzz. The best score per intent is the model's confidence in it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources

from rapidfuzz import fuzz, process

NUMBER, ADDRESS, ITEM = "#", "<address>", "<item>"
_PLACEHOLDERS = frozenset({NUMBER, ADDRESS, ITEM})
_TOKEN = re.compile(r"<address>|<item>|#|[a-z]+")
_CONTRACTIONS = (
    (r"\bwhere's\b", "where is"),
    (r"\bwhat's\b", "what is"),
    (r"\bhow's\b", "how is"),
    (r"\bit's\b", "it is"),
    (r"\bi'd\b", "i would"),
    (r"\bi've\b", "i have"),
    (r"\bi'm\b", "i am"),
    (r"\bcan't\b", "can not"),
    (r"\bwon't\b", "will not"),
    (r"\b(\w+)n't\b", r"\1 not"),
)
_SPELLING = 85  # how close a misspelt word must be to a known one to count as it


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
    return frozenset(word for row in table() for word in _TOKEN.findall(row.phrase)) - _PLACEHOLDERS


@cache
def _normalised_table() -> tuple[tuple[str, ...], tuple[str, ...]]:
    rows = table()
    return tuple(row.intent for row in rows), tuple(normalise(row.phrase) for row in rows)


def _known(word: str, vocabulary: frozenset[str]) -> str | None:
    """`word`, or the known word it is a misspelling of, or None for a word the table does not use."""
    if word in vocabulary or word in _PLACEHOLDERS:
        return word
    if len(word) < 5:
        return None
    found = process.extractOne(word, vocabulary, scorer=fuzz.ratio, score_cutoff=_SPELLING)
    return found[0] if found else None


def normalise(text: str) -> str:
    """`text` as the table writes it: lower case, contractions spelt out, unknown words as one `<item>`."""
    lowered = text.lower().replace("\u2019", "'")
    for pattern, replacement in _CONTRACTIONS:
        lowered = re.sub(pattern, replacement, lowered)
    vocabulary = _vocabulary()
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
    sort = fuzz.token_sort_ratio(normalised, phrase)
    inside = fuzz.token_set_ratio(normalised, phrase)
    return max(sort, 0.6 * inside + 0.4 * sort)


def matches(normalised: str, rows: Iterable[tuple[str, str]] | None = None) -> list[Match]:
    """The best match per intent for a normalised message, best first."""
    pairs = list(rows) if rows is not None else list(zip(*_normalised_table(), strict=True))
    best: dict[str, Match] = {}
    for intent, phrase in pairs:
        value = score(normalised, phrase)
        if intent not in best or value > best[intent].score:
            best[intent] = Match(intent, value, phrase)
    return sorted(best.values(), key=lambda match: match.score, reverse=True)
