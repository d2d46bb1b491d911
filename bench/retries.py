"""What botocore's retries absorb: faults injected below the retry layer, per client configuration.

Each configuration of `chat_runtime.aws.gateway.client_config` makes `CALLS` DynamoDB `GetItem` calls against
moto while a `before-send` hook answers a share of the HTTP attempts with a throttle (400
`ThrottlingException`), a 500, or a read timeout. The table gives the share of injected faults the caller
never saw. Backoff sleeps are skipped (the figures are shares, not latencies).
"""

from __future__ import annotations

import json
import random
from typing import Any

from bench.common import table

CALLS = 400


def _response(request: Any, status: int, code: str) -> Any:
    from botocore.awsrequest import AWSResponse

    body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": "injected"}).encode()
    raw = type("Raw", (), {"stream": lambda self, **_: iter([body])})()
    return AWSResponse(request.url, status, {"x-amzn-errortype": code}, raw)


def absorbed(role: str, rate: float, seed: int = 3) -> tuple[int, int]:
    """(faults injected, faults that reached the caller) for `CALLS` calls with `role`'s configuration."""
    import boto3
    from botocore.exceptions import ReadTimeoutError
    from moto import mock_aws

    from chat_runtime.aws.gateway import client_config

    rng = random.Random(seed)
    injected = [0]

    def below_retries(request: Any, **_: Any) -> Any:
        if rng.random() >= rate:
            return None
        injected[0] += 1
        kind = rng.choice(["throttle", "server", "timeout"])
        if kind == "timeout":
            raise ReadTimeoutError(endpoint_url=request.url)
        return (
            _response(request, 400, "ThrottlingException")
            if kind == "throttle"
            else _response(request, 500, "InternalServerError")
        )

    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1", config=client_config(role))
        client.create_table(
            TableName="t",
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        )
        client.meta.events.register("before-send.dynamodb", below_retries)
        seen = 0
        import botocore.retries.standard as standard

        original = standard.ExponentialBackoff.delay_amount
        standard.ExponentialBackoff.delay_amount = lambda self, context: 0
        try:
            for _ in range(CALLS):
                try:
                    client.get_item(TableName="t", Key={"k": {"S": "x"}})
                except Exception:
                    seen += 1
        finally:
            standard.ExponentialBackoff.delay_amount = original
    return injected[0], seen


def report(rates: list[float]) -> str:
    """The table of absorbed shares for every caller's configuration at each rate."""
    from chat_runtime.aws.gateway import POST, ROUTE, WORKER

    rows = []
    for role, label in (
        (ROUTE, "route handlers: standard, 3 attempts"),
        (WORKER, "worker: adaptive, 5"),
        (
            POST,
            "post_to_connection: standard, 2",
        ),
    ):
        for rate in rates:
            injected, seen = absorbed(role, rate)
            share = 1 - seen / injected if injected else 1.0
            rows.append([label, f"{rate:.0%}", CALLS, injected, seen, f"{share:.1%}"])
    headers = ["client", "fault rate", "calls", "faults injected", "calls failed", "absorbed"]
    return table("Faults injected below botocore's retries", headers, rows)


if __name__ == "__main__":
    import sys

    if "--quick" in sys.argv:  # a check that the script runs, not a measurement
        CALLS = 20
    print(report([0.05, 0.15]))
