"""Fixtures for the AWS path under moto."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from local_server.emulator.functions import reset_lambda_containers
from local_server.stack import create_stack
from support_agent.orders.dynamodb import DynamoDBOrderStore
from support_agent.orders.store import load_demo_orders
from tests.support.lambdas import REGION, Deployment


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "Test",
        "POWERTOOLS_SERVICE_NAME": "ws-support-agent",
    }.items():
        monkeypatch.setenv(name, value)


reset_containers = reset_lambda_containers


@pytest.fixture
def stack_tables(aws_env: None) -> Iterator[dict[str, str]]:
    """The template's resources under moto, by logical id (no functions: for the savers' tests)."""
    with mock_aws():
        yield create_stack(boto3.Session(region_name=REGION), "saver").names


@pytest.fixture
def deployment(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Deployment]:
    """The template's resources under moto, the demo orders seeded, each function's environment applied."""
    with mock_aws():
        session = boto3.Session(region_name=REGION)
        stack = create_stack(session)
        DynamoDBOrderStore(stack.names["OrdersTable"], resource=session.resource("dynamodb")).put(
            load_demo_orders()
        )
        environment: dict[str, str] = {}
        for function_id in ("MessageFunction", "AgentWorkerFunction"):
            environment.update(stack.environment(function_id))
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        reset_containers()
        deployment = Deployment(stack, session)
        with deployment.iam.installed():
            yield deployment
        reset_containers()
        assert deployment.iam.violations == [], "a function made AWS calls its role does not allow"
