"""A hosted model's API key: an SSM SecureString the worker reads at start, under the worker's own role."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from chat_runtime.model_keys import api_key_variable, load_model_api_key
from local_server.iam import IamGuard
from local_server.intrinsics import Resolver
from local_server.stack import Stack, create_stack
from tests.support.lambdas import API_ID, REGION

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
KEY = "/shop/openai-api-key"
OPENAI = {"Model": "openai:gpt-4o-mini", "ModelApiKeyParameter": KEY}


@pytest.fixture
def stack(aws_env: None) -> Iterator[tuple[Stack, Any]]:
    with mock_aws():
        session = boto3.Session(region_name=REGION)
        ssm = session.client("ssm")
        ssm.put_parameter(Name=KEY, Type="SecureString", Value="sk-test-1234")
        ssm.put_parameter(Name="/shop/jwt-secret", Type="SecureString", Value="x" * 32)
        yield create_stack(session), ssm


def worker_as_deployed(stack: Stack, **parameters: str) -> tuple[dict[str, str], IamGuard]:
    resolver = Resolver(stack, parameters=parameters, extra_refs={"WebSocketApi": API_ID})
    return stack.environment("AgentWorkerFunction", resolver), IamGuard(resolver)


def test_the_key_goes_into_the_variable_the_provider_reads(stack: tuple[Stack, Any]) -> None:
    deployed, ssm = stack
    environ, iam = worker_as_deployed(deployed, **OPENAI)
    assert "OPENAI_API_KEY" not in environ and "sk-test" not in str(environ)  # not in the configuration
    with iam.installed(), iam.acting_as("AgentWorkerFunction"):
        assert load_model_api_key(environ, ssm) == "OPENAI_API_KEY"
    assert environ["OPENAI_API_KEY"] == "sk-test-1234"
    assert iam.violations == []


def test_the_worker_may_read_that_parameter_and_no_other(stack: tuple[Stack, Any]) -> None:
    deployed, ssm = stack
    environ, iam = worker_as_deployed(deployed, **OPENAI)
    environ["MODEL_API_KEY_PARAMETER"] = "/shop/jwt-secret"  # another secret of the account
    with (
        iam.installed(),
        iam.acting_as("AgentWorkerFunction"),
        pytest.raises(ClientError, match="AccessDenied"),
    ):
        load_model_api_key(environ, ssm)
    without, iam = worker_as_deployed(deployed)  # no key parameter: no SSM right at all
    assert without["MODEL_API_KEY_PARAMETER"] == ""
    with iam.installed(), iam.acting_as("AgentWorkerFunction"):
        assert load_model_api_key(without, ssm) is None  # nothing configured, nothing read
        with pytest.raises(ClientError, match="AccessDenied"):
            ssm.get_parameter(Name=KEY, WithDecryption=True)


def test_the_variable_follows_the_provider_or_is_named() -> None:
    assert api_key_variable("anthropic:claude-3-5-haiku-latest") == "ANTHROPIC_API_KEY"
    assert api_key_variable("groq:llama-3.1-8b", "GROQ_API_KEY") == "GROQ_API_KEY"
    with pytest.raises(ValueError, match="set ModelApiKeyVariable"):
        api_key_variable("groq:llama-3.1-8b")


HANDLER_START = """
import os
import boto3
from moto import mock_aws
from local_server.emulator.functions import load_handler_module
from local_server.iam import IamGuard
from local_server.intrinsics import Resolver
from local_server.stack import create_stack
from tests.support.lambdas import API_ID, REGION

with mock_aws():
    session = boto3.Session(region_name=REGION)
    session.client("ssm").put_parameter(Name={key!r}, Type="SecureString", Value="sk-test-1234")
    stack = create_stack(session)
    resolver = Resolver(stack, parameters={parameters!r}, extra_refs={{"WebSocketApi": API_ID}})
    os.environ.update(stack.environment("AgentWorkerFunction", resolver))
    iam = IamGuard(resolver)
    with iam.installed(), iam.acting_as("AgentWorkerFunction"):
        load_handler_module("worker")
    print(os.environ.get("OPENAI_API_KEY"), iam.violations)
"""


def test_the_worker_handler_reads_the_key_when_it_starts() -> None:
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "Test",
    }
    env.pop("OPENAI_API_KEY", None)
    run = subprocess.run(
        [sys.executable, "-c", HANDLER_START.format(key=KEY, parameters=OPENAI)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.strip().splitlines()[-1] == "sk-test-1234 []"
