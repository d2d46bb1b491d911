"""Enforce each function's IAM role on every AWS call, where moto (or any emulator) does not.

The roles come from `template.yaml` expanded by the SAM translator itself (so `DynamoDBCrudPolicy` and
friends mean exactly what they mean on AWS), with intrinsics resolved against the resources of a `Stack`.
`IamGuard` wraps botocore's client calls: while a function is acting, a call its role does not allow fails
with AccessDenied, as it would on AWS, and is recorded.
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
import json
import logging
import os
import re
import subprocess
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

from local_server.intrinsics import ACCOUNT_ID, Resolver
from local_server.stack import ROOT

logger = logging.getLogger(__name__)

IAM_PREFIXES = {"apigatewaymanagementapi": "execute-api", "bedrock-runtime": "bedrock"}
S3_ACTIONS = {
    "HeadObject": "GetObject",
    "HeadBucket": "ListBucket",
    "ListObjects": "ListBucket",
    "ListObjectsV2": "ListBucket",
    "DeleteObjects": "DeleteObject",
    "GetBucketLifecycleConfiguration": "GetLifecycleConfiguration",
    "PutBucketLifecycleConfiguration": "PutLifecycleConfiguration",
}
BEDROCK_ACTIONS = {"Converse": "InvokeModel", "ConverseStream": "InvokeModelWithResponseStream"}
CONNECTION_METHODS = {"PostToConnection": "POST", "GetConnection": "GET", "DeleteConnection": "DELETE"}
TRANSACT_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}


# The translator pins pydantic below the runtime's pin, so it runs from SAM CLI's own environment
# (`make .tools/sam/bin/sam`, which `make test` and `make build` install).
SAM_PYTHON = ROOT / ".tools" / "sam" / "bin" / "python"
_TRANSLATE = """
import json, sys
from samtranslator.translator.transform import transform

class NoManagedPolicies:
    def load(self):
        return {}

print(json.dumps(transform(json.load(sys.stdin), {}, NoManagedPolicies())))
"""


class TranslatorMissing(RuntimeError):
    """SAM CLI's environment, which holds the SAM translator, is not installed."""


@cache
def _expanded(template_json: str, region: str) -> dict[str, Any]:
    template = json.loads(template_json)
    for resource in template["Resources"].values():
        for key in ("CodeUri", "ContentUri"):
            if key in resource.get("Properties", {}):
                resource["Properties"][key] = "s3://packaged/artifact.zip"  # as `sam package` leaves it
    python = Path(os.environ.get("SAM_PYTHON", SAM_PYTHON))
    if not python.exists():
        raise TranslatorMissing(f"{python} is missing: run `make .tools/sam/bin/sam` (SAM CLI) first")
    result = subprocess.run(
        [str(python), "-c", _TRANSLATE],
        input=json.dumps(template),
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "AWS_DEFAULT_REGION": region, "SAM_CLI_TELEMETRY": "0"},
    )
    if result.returncode != 0:
        raise RuntimeError(f"the SAM translator refused the template:\n{result.stderr[-2000:]}")
    expanded: dict[str, Any] = json.loads(result.stdout)
    return expanded


def expand_template(template: Mapping[str, Any], region: str = "us-east-1") -> dict[str, Any]:
    """The template after the `AWS::Serverless-2016-10-31` transform, as CloudFormation would receive it."""
    return copy.deepcopy(_expanded(json.dumps(template, sort_keys=True), region))


@dataclass(frozen=True)
class Statement:
    """One resolved policy statement."""

    effect: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    conditional: bool = False

    def matches(self, action: str, resource: str) -> bool:
        """Whether the statement covers `action` on `resource` (conditioned statements never do here)."""
        return (
            not self.conditional
            and any(_wildcard(pattern, action, ignore_case=True) for pattern in self.actions)
            and any(_wildcard(pattern, resource) for pattern in self.resources)
        )


@dataclass(frozen=True)
class RolePolicy:
    """A function role's inline statements (AWS managed policies are not the code's concern)."""

    function_id: str
    statements: tuple[Statement, ...]

    def allows(self, action: str, resource: str) -> bool:
        """IAM's rule for one identity policy: an explicit deny wins, else some allow is needed."""
        matching = [s for s in self.statements if s.matches(action, resource)]
        return any(s.effect == "Allow" for s in matching) and not any(s.effect == "Deny" for s in matching)

    @classmethod
    def for_function(cls, function_id: str, resolver: Resolver) -> RolePolicy:
        """The expanded, resolved inline policies of `function_id`'s execution role."""
        expanded = expand_template(resolver.stack.template, resolver.region)
        role = expanded["Resources"][f"{function_id}Role"]["Properties"]
        statements: list[Statement] = []
        for policy in resolver.resolve(role.get("Policies", [])):
            for raw in _as_list(policy["PolicyDocument"]["Statement"]):
                statements.append(
                    Statement(
                        effect=raw["Effect"],
                        actions=tuple(_as_list(raw["Action"])),
                        resources=tuple(_as_list(raw["Resource"])),
                        conditional="Condition" in raw,
                    )
                )
        return cls(function_id, tuple(statements))


def required_permissions(
    service: str,
    operation: str,
    params: Mapping[str, Any],
    endpoint_url: str,
    region: str = "us-east-1",
    account: str = ACCOUNT_ID,
    local_api_id: str | None = None,
) -> list[tuple[str, str]]:
    """The (action, resource ARN) pairs IAM checks for one API call.

    `local_api_id` names the WebSocket API when the management endpoint is a local emulator's
    (`http://127.0.0.1:PORT/{stage}`) instead of `https://{api_id}.execute-api...`.
    """
    prefix = IAM_PREFIXES.get(service, service)
    if service == "dynamodb":
        table = f"arn:aws:dynamodb:{region}:{account}:table/"
        if operation in ("BatchWriteItem", "BatchGetItem"):
            return [(f"dynamodb:{operation}", table + name) for name in params.get("RequestItems", {})]
        if operation in ("TransactWriteItems", "TransactGetItems"):
            pairs = []
            for item in params.get("TransactItems", []):
                [(kind, request)] = item.items()
                action = TRANSACT_ACTIONS.get(kind, "GetItem")
                pairs.append((f"dynamodb:{action}", table + request["TableName"]))
            return pairs
        resource = table + str(params.get("TableName", "*"))
        if params.get("IndexName"):
            resource += f"/index/{params['IndexName']}"
        return [(f"dynamodb:{operation}", resource)]
    if service == "s3":
        bucket = f"arn:aws:s3:::{params.get('Bucket', '*')}"
        resource = f"{bucket}/{params['Key']}" if "Key" in params else bucket
        pairs = [(f"s3:{S3_ACTIONS.get(operation, operation)}", resource)]
        if operation in ("PutObject", "CreateMultipartUpload", "CopyObject") and params.get("Tagging"):
            pairs.append(("s3:PutObjectTagging", resource))
        return pairs
    if service == "sqs":
        path = urlsplit(str(params.get("QueueUrl", ""))).path.strip("/").split("/")
        queue_account, name = (path[0], path[-1]) if len(path) >= 2 else (account, path[-1])
        return [(f"sqs:{operation}", f"arn:aws:sqs:{region}:{queue_account}:{name}")]
    if service == "apigatewaymanagementapi":
        url = urlsplit(endpoint_url)
        host = url.hostname or ""
        api_id = host.split(".")[0] if ".execute-api." in host or not local_api_id else local_api_id
        stage = url.path.strip("/") or "*"
        method = CONNECTION_METHODS.get(operation, "*")
        connection = unquote(str(params.get("ConnectionId", "*")))
        resource = (
            f"arn:aws:execute-api:{region}:{account}:{api_id}/{stage}/{method}/@connections/{connection}"
        )
        return [("execute-api:ManageConnections", resource)]
    if service == "ssm":
        name = str(params.get("Name", "*"))
        return [(f"ssm:{operation}", f"arn:aws:ssm:{region}:{account}:parameter{name}")]
    if service == "bedrock-runtime":
        model = str(params.get("modelId", "*"))
        resource = (
            model if model.startswith("arn:") else f"arn:aws:bedrock:{region}::foundation-model/{model}"
        )
        return [(f"bedrock:{BEDROCK_ACTIONS.get(operation, operation)}", model)]
    return [(f"{prefix}:{operation}", "*")]


@dataclass(frozen=True)
class Violation:
    """A call a role does not allow."""

    function_id: str
    action: str
    resource: str


class IamGuard:
    """Makes botocore refuse calls the acting function's role does not allow, as AWS would.

    Calls made while no function acts (test set-up, fixtures reading tables) are not checked.
    """

    def __init__(self, resolver: Resolver) -> None:
        self.resolver = resolver
        self.violations: list[Violation] = []
        self._policies: dict[str, RolePolicy] = {}
        self._acting: str | None = None
        self._acting_here: contextvars.ContextVar[str | None] = contextvars.ContextVar("acting", default=None)
        self._lock = threading.Lock()

    def policy(self, function_id: str) -> RolePolicy:
        """The function's role, expanded once."""
        if function_id not in self._policies:
            self._policies[function_id] = RolePolicy.for_function(function_id, self.resolver)
        return self._policies[function_id]

    @contextlib.contextmanager
    def acting_as(self, function_id: str, scope: Literal["process", "context"] = "process") -> Iterator[None]:
        """Check calls made until the block ends against `function_id`'s role.

        Args:
            function_id: The function whose role applies.
            scope: `process`: every call from any thread (one function at a time, as tests invoke them);
                `context`: calls made in this context and the tasks and threads that copy it, so that
                functions running at once (the emulator) each answer for their own calls.
        """
        self.policy(function_id)
        if scope == "context":
            token = self._acting_here.set(function_id)
            try:
                yield
            finally:
                self._acting_here.reset(token)
            return
        with self._lock:
            previous, self._acting = self._acting, function_id
        try:
            yield
        finally:
            with self._lock:
                self._acting = previous

    def check(self, client: Any, operation: str, params: Mapping[str, Any]) -> None:
        """Raise AccessDenied (a botocore `ClientError`) for a call the acting role does not allow."""
        function_id = self._acting_here.get() or self._acting
        if function_id is None:
            return
        from botocore.exceptions import ClientError

        policy = self.policy(function_id)
        service = client.meta.service_model.service_name
        for action, resource in required_permissions(
            service,
            operation,
            params,
            client.meta.endpoint_url,
            self.resolver.region,
            self.resolver.account,
            self.resolver.extra_refs.get("WebSocketApi"),
        ):
            if policy.allows(action, resource):
                continue
            self.violations.append(Violation(function_id, action, resource))
            message = (
                f"User: arn:aws:sts::{self.resolver.account}:assumed-role/{function_id}Role/{function_id} "
                f"is not authorized to perform: {action} on resource: {resource} because no "
                "identity-based policy allows the action"
            )
            logger.error("IAM refused %s", message)
            code = "AccessDenied" if service == "s3" else "AccessDeniedException"
            raise ClientError({"Error": {"Code": code, "Message": message}}, operation)

    @contextlib.contextmanager
    def installed(self) -> Iterator[IamGuard]:
        """Route every botocore client call through `check` until the block ends."""
        from botocore.client import BaseClient

        original: Callable[..., Any] = BaseClient._make_api_call
        guard = self

        def guarded(client: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
            guard.check(client, operation_name, api_params)
            return original(client, operation_name, api_params)

        BaseClient._make_api_call = guarded
        try:
            yield self
        finally:
            BaseClient._make_api_call = original


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _wildcard(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.IGNORECASE if ignore_case else 0) is not None
