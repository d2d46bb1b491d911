"""The shop's policies (returns, refunds, shipping): a short Markdown document the shop edits."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

_SECTION = re.compile(r"^##\s+(?P<title>.+?)\s*$", re.MULTILINE)


def load_policies(path: Path | None = None) -> dict[str, str]:
    """The policy document's sections by lower-case title; the packaged demo policies by default.

    Raises:
        ValueError: The document has no `## ` section.
    """
    if path is None:
        text = resources.files("support_agent").joinpath("data/policies.md").read_text("utf-8")
    else:
        text = path.read_text("utf-8")
    headings = list(_SECTION.finditer(text))
    if not headings:
        raise ValueError(f"{path or 'policies.md'} has no '## <topic>' section")
    sections: dict[str, str] = {}
    for heading, after in zip(headings, [*headings[1:], None], strict=True):
        body = text[heading.end() : after.start() if after else len(text)]
        sections[heading.group("title").lower()] = " ".join(body.split())
    return sections
