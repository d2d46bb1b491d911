"""docs/deploy.md as a reader follows it: the seeding snippet works, and every file the docs name exists."""

from __future__ import annotations

import re
import runpy
import sys
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from support_agent.orders.dynamodb import DynamoDBOrderStore
from tests.support.aws import create_orders_table

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# A path in backticks or a Markdown link that names a file of this repository.
_LINK = re.compile(r"\]\((?!https?://|#)([^)#\s]+)")
_PATH = re.compile(r"`((?:docs|tests|layers|local_server|functions|bench|scripts|requirements)/[\w./-]+)`")


def seed_snippet() -> str:
    guide = (ROOT / "docs" / "deploy.md").read_text("utf-8")
    start = guide.index("<!-- seed:")
    found = re.search(r"<<'PY'\n(.*?)\nPY\n", guide[start:], re.DOTALL)
    assert found is not None and '.venv/bin/python - "$ORDERS_TABLE"' in guide[start : start + found.start()]
    return found.group(1)


def test_the_seeding_snippet_fills_the_orders_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    script = tmp_path / "seed.py"
    script.write_text(seed_snippet())
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    with mock_aws():
        create_orders_table(boto3.client("dynamodb"), "shop-orders")
        monkeypatch.setattr(sys, "argv", ["-", "shop-orders"])
        runpy.run_path(str(script), run_name="__main__")
        store = DynamoDBOrderStore("shop-orders")
        assert [order.order_id for order in store.list_for_customer("demo-customer")] == [
            "1046",
            "1043",
            "1042",
            "1044",
            "1045",
        ]
    assert capsys.readouterr().out == "seeded shop-orders\n"


@pytest.mark.parametrize("doc", DOCS, ids=lambda path: path.name)
def test_every_file_the_docs_name_exists(doc: Path) -> None:
    text = doc.read_text("utf-8")
    named = {(doc.parent / link).resolve() for link in _LINK.findall(text)}
    named |= {(ROOT / path.rstrip(".")).resolve() for path in _PATH.findall(text) if "*" not in path}
    missing = sorted(str(path.relative_to(ROOT)) for path in named if not path.exists())
    assert missing == []
