"""docs/deploy.md as a reader follows it: the seeding snippet works, and every file the docs name exists."""

from __future__ import annotations

import re
import runpy
import subprocess
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


def teardown_snippet() -> str:
    guide = (ROOT / "docs" / "deploy.md").read_text("utf-8")
    start = guide.index("## 9. Tear down")
    found = re.search(r"```bash\n(.*?)```", guide[start:], re.DOTALL)
    assert found is not None
    return found.group(1)


def test_the_teardown_runs_in_a_fresh_shell(tmp_path: Path) -> None:
    # The AWS CLI and SAM are stood in for by scripts that log their arguments and answer as AWS would
    # (a bucket name, a table name): what is checked is the shell the reader pastes, in a new terminal.
    calls = tmp_path / "calls.log"
    bin_dir = tmp_path / "bin"
    (tmp_path / ".tools" / "sam" / "bin").mkdir(parents=True)
    bin_dir.mkdir()
    answers = {
        "aws": 'case "$*" in *describe-stack-resource*) echo ckpt-bucket;; '
        "*OrdersTableName*) echo shop-orders;; esac",
        "sam": "",
    }
    for name, answer in answers.items():
        script = bin_dir / name if name == "aws" else tmp_path / ".tools" / "sam" / "bin" / "sam"
        script.write_text(f'#!/bin/sh\necho "{name} $*" >> "{calls}"\n{answer}\n')
        script.chmod(0o755)
    shell = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eu", "-c", teardown_snippet()],
        cwd=tmp_path,
        env={"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
    )
    assert shell.returncode == 0, shell.stderr
    log = calls.read_text()
    assert "aws s3 rm s3://ckpt-bucket --recursive" in log
    assert "sam delete --stack-name ws-support-agent-dev --no-prompts" in log
    assert "aws dynamodb delete-table --table-name shop-orders" in log
