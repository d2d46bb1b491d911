"""Create `template.yaml`'s tables, queue and bucket on any endpoint (moto, DynamoDB Local, a test account).

The local server (`--store dynamodb`) and the tests build their AWS resources from the template's own
definitions, so neither can drift from what `sam deploy` creates.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from local_server.intrinsics import Resolver

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "template.yaml"


class _Tag(dict[str, Any]):
    """A CloudFormation intrinsic such as `!Ref X`, kept as `{"Ref": "X"}`."""


def _loader() -> type[yaml.SafeLoader]:
    class Loader(yaml.SafeLoader):
        pass

    def construct(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
        name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
            if suffix == "GetAtt":
                value = value.split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
        return _Tag({name: value})

    Loader.add_multi_constructor("!", construct)
    return Loader


def load_template() -> dict[str, Any]:
    """The template as data, intrinsics as `{"Ref": ...}` / `{"Fn::GetAtt": [...]}` dicts."""
    # The loader is a SafeLoader that only adds CloudFormation's tags.
    data: dict[str, Any] = yaml.load(TEMPLATE.read_text(), Loader=_loader())  # nosec B506
    return data


@dataclass
class Stack:
    """The template's stateful resources, created under moto with generated physical names."""

    template: dict[str, Any]
    names: dict[str, str] = field(default_factory=dict)
    queue_urls: dict[str, str] = field(default_factory=dict)
    queue_arns: dict[str, str] = field(default_factory=dict)

    def resources(self, kind: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.template["Resources"].items() if v["Type"] == kind}

    def resolve(self, value: Any) -> Any:
        """`value` with its intrinsics resolved against this stack (parameters at their defaults)."""
        return Resolver(self).resolve(value)

    def environment(self, function_id: str, resolver: Resolver | None = None) -> dict[str, str]:
        """A function's environment variables (globals, then its own), resolved by `resolver` (by default
        against this stack with the parameters at their defaults)."""
        variables = dict(self.template["Globals"]["Function"]["Environment"]["Variables"])
        own = self.template["Resources"][function_id]["Properties"].get("Environment", {})
        variables.update(own.get("Variables", {}))
        return {key: str(value) for key, value in (resolver or Resolver(self)).resolve(variables).items()}


def create_stack(session: Any, prefix: str = "test", *, endpoint_url: str | None = None) -> Stack:
    """Create every table, queue and bucket of the template that does not exist yet.

    Args:
        session: A boto3 session.
        prefix: Physical names are `{prefix}-{LogicalId}`.
        endpoint_url: Where to create them (default: the session's AWS endpoints).
    """
    stack = Stack(load_template())
    dynamodb = session.client("dynamodb", endpoint_url=endpoint_url)
    existing = set(dynamodb.list_tables()["TableNames"])
    for logical_id, resource in stack.resources("AWS::DynamoDB::Table").items():
        name = f"{prefix}-{logical_id}"
        stack.names[logical_id] = name
        if name in existing:
            continue
        properties = resource["Properties"]
        arguments = {
            key: properties[key]
            for key in ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "BillingMode")
            if key in properties
        }
        dynamodb.create_table(TableName=name, **arguments)
        if "TimeToLiveSpecification" in properties:
            dynamodb.update_time_to_live(
                TableName=name, TimeToLiveSpecification=properties["TimeToLiveSpecification"]
            )
    sqs = session.client("sqs", endpoint_url=endpoint_url)
    queues = stack.resources("AWS::SQS::Queue")
    # Dead-letter queues first: the others point at them.
    for logical_id in sorted(queues, key=lambda q: "RedrivePolicy" in queues[q]["Properties"]):
        properties = queues[logical_id]["Properties"]
        name = f"{prefix}-{logical_id}" + (".fifo" if properties.get("FifoQueue") else "")
        attributes = {
            key: str(value).lower() if isinstance(value, bool) else str(value)
            for key, value in properties.items()
            if key != "RedrivePolicy"
        }
        if "RedrivePolicy" in properties:
            policy = {key: stack.resolve(value) for key, value in properties["RedrivePolicy"].items()}
            attributes["RedrivePolicy"] = json.dumps(policy)
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        stack.names[logical_id] = name
        stack.queue_urls[logical_id] = url
        stack.queue_arns[logical_id] = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
    s3 = session.client("s3", endpoint_url=endpoint_url)
    for logical_id, resource in stack.resources("AWS::S3::Bucket").items():
        name = f"{prefix}-{logical_id}".lower()
        stack.names[logical_id] = name
        if name in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
            continue
        s3.create_bucket(Bucket=name)
        rules = resource["Properties"].get("LifecycleConfiguration", {}).get("Rules", [])
        if rules:
            s3.put_bucket_lifecycle_configuration(
                Bucket=name,
                LifecycleConfiguration={
                    "Rules": [
                        {
                            "ID": rule["Id"],
                            "Status": rule["Status"],
                            "Filter": {"Prefix": ""},
                            "Expiration": {"Days": int(stack.resolve(rule["ExpirationInDays"]))},
                        }
                        for rule in rules
                    ]
                },
            )
    return stack
