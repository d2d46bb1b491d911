"""Cold start: each Lambda handler module imported in a fresh process, against a bare `import boto3`.

Median of 7 fresh interpreters per module (Python of this venv, bytecode cached); also the top imports by
cumulative time from `python -X importtime` for the message route handler. Run: `python -m bench.cold_start`
(`--quick`: one process for two of the modules, a smoke run).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from bench.common import median, quick, table

ROOT = Path(__file__).resolve().parents[1]
RUNS = 7
MESSAGE_HANDLER = ROOT / "functions" / "message" / "app.py"
HANDLERS = ("connect", "disconnect", "message", "interrupt_response", "dead_letters", "health", "worker")
QUICK_HANDLERS = ("connect", "worker")  # the lightest and the heaviest
ENV = {
    **os.environ,
    "CONNECTIONS_TABLE": "c",
    "SESSIONS_TABLE": "s",
    "CHECKPOINTS_TABLE": "k",
    "ORDERS_TABLE": "o",
    "ORDER_STORE": "dynamodb",
    "AWS_DEFAULT_REGION": "us-east-1",
}
# What a handler builds on its first call (clients; the worker also its graph), timed after the import.
FIRST_CALL = {
    "worker": "from chat_runtime.aws.worker import default_worker_deps; default_worker_deps()",
    "health": "",
}
DEFAULT_FIRST_CALL = "from chat_runtime.aws.routes import default_route_deps; default_route_deps()"
LOAD = """
import importlib.util, time
started = time.perf_counter()
spec = importlib.util.spec_from_file_location("app", {path!r})
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
imported = time.perf_counter() - started
{first_call}
print(imported, time.perf_counter() - started)
"""


def timed(code: str) -> list[float]:
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=ENV, check=True, cwd=ROOT
    )
    return [float(value) for value in result.stdout.strip().splitlines()[-1].split()]


def main() -> None:
    runs = 1 if quick() else RUNS
    boto3_code = "import time; t = time.perf_counter(); import boto3; print(time.perf_counter() - t)"
    baseline = median([timed(boto3_code)[0] for _ in range(runs)])
    rows: list[list[object]] = [["import boto3 (baseline)", baseline * 1000, "1.00x", "", ""]]
    for name in QUICK_HANDLERS if quick() else HANDLERS:
        code = LOAD.format(
            path=str(ROOT / "functions" / name / "app.py"),
            first_call=FIRST_CALL.get(name, DEFAULT_FIRST_CALL),
        )
        times = [timed(code) for _ in range(runs)]
        imported, ready = median([r[0] for r in times]), median([r[1] for r in times])
        rows.append(
            [
                f"functions/{name}",
                imported * 1000,
                f"{imported / baseline:.2f}x",
                ready * 1000,
                f"{ready / baseline:.2f}x",
            ]
        )
    title = (
        f"Handler cold start, median of {runs} fresh processes (ms): import, then import + first-call setup"
    )
    print(table(title, ["module", "import", "vs boto3", "+ setup", "vs boto3"], rows))
    report = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", LOAD.format(path=str(MESSAGE_HANDLER), first_call="")],
        capture_output=True,
        text=True,
        env=ENV,
        check=True,
        cwd=ROOT,
    ).stderr
    entries = []
    for line in report.splitlines():
        found = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
        if found and len(found.group(3)) <= 2:
            entries.append((int(found.group(2)), found.group(4)))
    top = sorted(entries, reverse=True)[:8]
    print(
        table(
            "Message route handler: top-level imports by cumulative time",
            ["module", "ms"],
            [[name, us / 1000] for us, name in top],
        )
    )


if __name__ == "__main__":
    main()
