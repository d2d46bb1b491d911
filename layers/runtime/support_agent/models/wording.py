"""Everyday wording brought to the form the paraphrase table is written in, before any matching.

Contractions are spelt out (with or without the apostrophe: "whats", "dont"), a reference to an order
("its", "that one", "refund that") becomes "it", filler words ("please", "now", "yet") are dropped, and a few
everyday words for what the agent does become the table's word ("scrap" is "cancel").
"""

from __future__ import annotations

import re

_CONTRACTIONS = (
    (r"\b(where|what|how|who|there|that|it|when)(?:'s|s)\b(?<!\bits)", r"\1 is"),
    (r"\bi'd\b", "i would"),
    (r"\b(i|you|we|they)'ve\b|\b(i|you|we|they)ve\b", r"\1\2 have"),
    (r"\bi'm\b|\bim\b", "i am"),
    (r"\b(i|you|we|they|it)'ll\b", r"\1 will"),
    (r"\b(you|we|they)'re\b", r"\1 are"),
    (r"\bcan't\b|\bcant\b|\bcannot\b", "can not"),
    (r"\bwon't\b|\bwont\b", "will not"),
    (r"\b(do|does|did|is|are|was|were|has|have|had|could|would|should)n'?t\b", r"\1 not"),
    (r"\bhaven\b|\bhasn\b|\bdidn\b|\bdoesn\b|\bisn\b|\bwasn\b", "not"),
)
# "that one", "this one", and "that"/"this" ending a clause name the order the conversation is about.
_REFERENCES = (
    (r"\b(?:that|this|the|same)\s+one\b", "it"),
    (r"\b(?:that|this)\b(?=\s*(?:please\b|again\b|for me\b|[?.!,]|$))", "it"),
    (r"\bits\b", "it"),
    (r"\bit\s+it\b", "it"),
)
# Words that change nothing about what a customer asks for.
FILLER = frozenset(
    {
        "please",
        "pls",
        "plz",
        "now",
        "yet",
        "still",
        "just",
        "really",
        "actually",
        "exactly",
        "currently",
        "kindly",
        "so",
        "um",
        "uh",
        "hmm",
        "right",
        "quickly",
        "asap",
        "though",
        "also",
        "then",
        "for me",
    }
)
# Everyday words for the agent's tasks, as the table writes them (whole words only).
SYNONYMS = {
    "scrap": "cancel",
    "kill": "cancel",
    "abort": "cancel",
    "axe": "cancel",
    "cancellation": "cancelled",
    "refunded": "refund",
    "reimbursed": "reimburse",
    "reimbursement": "refund",
    "package": "parcel",
    "packages": "parcel",
    "shipment": "parcel",
    "delivery": "delivery",
    "purchases": "orders",
    "bought": "ordered",
    "dispatched": "shipped",
    "sent out": "shipped",
    "posted": "shipped",
    "courier": "carrier",
    "eta": "arrive",
    "get here": "arrive",
    "turn up": "arrive",
    "turns up": "arrive",
    "show up": "arrive",
    "shows up": "arrive",
    "showed up": "arrived",
    "turned up": "arrived",
    "shown up": "arrived",
    "arrives": "arrive",
    "arriving": "arrive",
    "human being": "human",
    "someone": "somebody",
    "anyone": "somebody",
    "agent": "person",
    "representative": "person",
    "rep": "person",
    "operator": "person",
    "manager": "person",
    "thx": "thanks",
    "ty": "thank you",
    "hiya": "hi",
    "howdy": "hello",
    "altogether": "in total",
    "overall": "in total",
}
_SYNONYM = re.compile(r"\b(?:" + "|".join(sorted(map(re.escape, SYNONYMS), key=len, reverse=True)) + r")\b")
_FILLER = re.compile(r"\b(?:" + "|".join(sorted(map(re.escape, FILLER), key=len, reverse=True)) + r")\b")


def plain(text: str) -> str:
    """`text` in lower case with contractions spelt out, references as "it" and everyday words as the table's.

    Filler words are dropped unless nothing else is left ("ok" or "right" alone still say something).
    """
    lowered = text.lower().replace("\u2019", "'").replace("`", "'")
    for pattern, replacement in _CONTRACTIONS:
        lowered = re.sub(pattern, replacement, lowered)
    lowered = _SYNONYM.sub(lambda found: SYNONYMS[found.group(0)], lowered)
    for pattern, replacement in _REFERENCES:
        lowered = re.sub(pattern, replacement, lowered)
    without_filler = _FILLER.sub(" ", lowered)
    return without_filler if re.search(r"[a-z#<]", without_filler) else lowered
