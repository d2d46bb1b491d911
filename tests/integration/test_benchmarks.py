"""Every benchmark runs to its end on tiny settings (`--quick`), so that none can break unseen again.

The figures of a quick run mean nothing; what is checked is that each script configures what it measures
(e.g. our server without its per-connection rate limit for the throughput part) and prints its tables.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
# A benchmark is a script (`python -m bench.<name>`); the other modules (common, peers, turn_steps) help them.
SCRIPTS = sorted(
    path.stem
    for path in (ROOT / "bench").glob("*.py")
    if 'if __name__ == "__main__":' in path.read_text("utf-8")
)
# What each one's output must show: its last table, and for the session benchmarks, no refused turn.
EXPECTED = {
    "turn_overhead": ["Throughput (turns/s)"],
    "concurrency": ["errors: 0"],
    "sender": ["API Gateway sender: 30 tokens"],
    "critical_path": [
        "Critical path, before -> now",
        "existing thread, another worker",
        "AWS calls of one simple turn, existing thread",
    ],
    "delta_channel": [
        "DeltaChannel on DynamoDBSaver, durability=exit, turns 1..5",
        "DeltaChannel on DynamoDBThreadSaver, durability=exit, turns 1..5",
    ],
    "dynamodb_cost": ["USD for 1,000 three-turn conversations"],
    "bedrock_cost": ["Bedrock cost at list price"],
    "run_aws": ["run-aws / run, median turn"],
    "follow_up": ["Follow-ups on one thread"],
    "cold_start": ["Message route handler: top-level imports"],
    "faults": ["AWS faults above botocore's retries"],
    "retries": ["Faults injected below botocore's retries"],
    "cancel": ["Cancel: from sending it to the last token and to the turn's end"],
}


def test_make_bench_runs_every_script() -> None:
    makefile = (ROOT / "Makefile").read_text("utf-8")
    listed = re.search(r"^BENCHMARKS := (.+)$", makefile, re.MULTILINE)
    assert listed is not None
    assert sorted(listed.group(1).split()) == SCRIPTS == sorted(EXPECTED)


@pytest.mark.parametrize("script", SCRIPTS)
def test_the_benchmark_runs_to_its_end_on_tiny_settings(script: str) -> None:
    run = subprocess.run(
        [sys.executable, "-m", f"bench.{script}", "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-4000:]
    for text in EXPECTED[script]:
        assert text in run.stdout, run.stdout
    if script == "turn_overhead" and not (ROOT / ".tools" / "langgraph" / "bin" / "langgraph").exists():
        assert "LangGraph's server (.tools/langgraph/bin/langgraph) is not installed, left out" in run.stdout
