"""The Lambda layer carries what a turn needs and nothing it never imports (numpy, a graph folder's clutter).

`make build` makes an arm64 layer this machine cannot import, so the checks are: the layer recipe itself,
run for real on a small folder, and the worker run in a fresh interpreter where numpy cannot be imported,
as in the trimmed layer.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
# `import numpy` then raises ImportError, as in the layer.
WITHOUT_NUMPY = "import sys\nsys.modules['numpy'] = None\n"
TURN = """
import boto3
from moto import mock_aws

from local_server.stack import create_stack
from support_agent.orders.dynamodb import DynamoDBOrderStore
from support_agent.orders.store import load_demo_orders
from tests.support.lambdas import REGION, Deployment

with mock_aws():
    session = boto3.Session(region_name=REGION)
    stack = create_stack(session)
    DynamoDBOrderStore(stack.names["OrdersTable"], resource=session.resource("dynamodb")).put(
        load_demo_orders()
    )
    import os
    for function_id in ("MessageFunction", "AgentWorkerFunction"):
        os.environ.update(stack.environment(function_id))
    deployment = Deployment(stack, session)
    with deployment.iam.installed():
        frames = deployment.turn(
            deployment.connect(),
            {"type": "message", "thread_id": "t1", "content": "What is the status of order 1042?"},
        )
    print(frames[-1]["type"], "".join(f.get("content", "") for f in frames if f["type"] == "token"))
"""
BEDROCK = """
from chat_runtime.aws.worker import default_worker_deps
deps = default_worker_deps()
print(type(deps).__name__)
"""


def python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "Test",
    }
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_NUMPY + code],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_turn_runs_through_the_handlers_without_numpy() -> None:
    run = python(TURN)
    assert run.returncode == 0, run.stderr[-4000:]
    last = run.stdout.strip().splitlines()[-1]  # after the handlers' own log lines
    assert last.startswith("message_complete ") and "has shipped with UPS" in last


def test_the_worker_builds_its_bedrock_graph_without_numpy() -> None:
    run = python(
        BEDROCK,
        MODEL_PROVIDER="bedrock",
        BEDROCK_MODEL_ID="anthropic.claude-3-5-haiku-20241022-v1:0",
        CONNECTIONS_TABLE="c",
        SESSIONS_TABLE="s",
        CHECKPOINTS_TABLE="k",
        ORDERS_TABLE="o",
        ORDER_STORE="dynamodb",
    )
    assert run.returncode == 0, run.stderr[-4000:]
    assert run.stdout.strip().splitlines()[-1] == "WorkerDeps"


def test_the_layer_recipe_leaves_numpy_and_the_graph_folders_clutter_out(tmp_path: Path) -> None:
    artifacts, graph = tmp_path / "layer", tmp_path / "my_graph"
    for installed in ("numpy/core", "numpy.libs", "numpy-2.5.5.dist-info", "langgraph"):
        (artifacts / "python" / installed).mkdir(parents=True)  # what pip would have installed
    for clutter in ("__pycache__", ".langgraph_api", ".venv/lib", "sub/__pycache__"):
        (graph / clutter).mkdir(parents=True)
        (graph / clutter / "x.pckl").write_text("local state")
    (graph / "langgraph.json").write_text('{"graphs": {"g": "./graph.py:graph"}}')
    (graph / "graph.py").write_text("graph = None\n")
    (graph / "sub" / "part.py").write_text("")
    subprocess.run(
        [
            "make",
            "-s",
            "-C",
            "layers/runtime",
            "build-RuntimeLayer",
            f"ARTIFACTS_DIR={artifacts}",
            f"LAYER_GRAPH_DIR={graph}",
            "PYTHON=true",  # pip's part is skipped: the packages above stand in for what it installs
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    shipped = sorted(path.name for path in (artifacts / "python").iterdir())
    assert shipped == ["chat_runtime", "graph", "langgraph", "support_agent"]
    files = sorted(
        str(path.relative_to(artifacts / "python" / "graph"))
        for path in (artifacts / "python" / "graph").rglob("*")
        if "__pycache__" not in path.parts  # the bytecode compiled for Lambda's Python, if any
    )
    assert files == ["graph.py", "langgraph.json", "sub", "sub/part.py"]
    assert not list((artifacts / "python" / "graph").rglob("*.pckl"))
