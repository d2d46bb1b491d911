"""CloudFormation intrinsics (`Ref`, `Fn::GetAtt`, `Fn::Sub`, `Fn::If`, `Fn::Join`) resolved locally.

Resources resolve to the physical names a `Stack` created for them, parameters to their defaults unless
overridden, pseudo parameters to moto's account and the region.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from local_server.stack import Stack

ACCOUNT_ID = "123456789012"  # moto's default account

_NO_VALUE = object()


@dataclass
class Resolver:
    """Resolves CloudFormation intrinsics against a `Stack` created from the same template.

    Attributes:
        stack: Physical names of tables, queues and buckets.
        parameters: Parameter values (defaults fill the rest).
        extra_refs: Values of other resources' `Ref` (e.g. the WebSocket API's id).
    """

    stack: Stack
    parameters: Mapping[str, str] = field(default_factory=dict)
    extra_refs: Mapping[str, str] = field(default_factory=dict)
    region: str = "us-east-1"
    account: str = ACCOUNT_ID

    def resolve(self, value: Any) -> Any:
        """`value` with every intrinsic replaced; `AWS::NoValue` entries dropped."""
        if isinstance(value, list):
            items = [self.resolve(item) for item in value]
            return [item for item in items if item is not _NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            [(name, argument)] = value.items()
            if name == "Ref":
                return self.ref(argument)
            if name == "Fn::GetAtt":
                logical_id, attribute = argument if isinstance(argument, list) else argument.split(".", 1)
                return self.get_att(logical_id, attribute)
            if name == "Fn::Sub":
                return self._sub(argument)
            if name == "Fn::If":
                condition, when_true, when_false = argument
                return self.resolve(when_true if self.condition(condition) else when_false)
            if name == "Fn::Join":
                separator, parts = argument
                return separator.join(str(part) for part in self.resolve(parts))
        resolved = {key: self.resolve(item) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item is not _NO_VALUE}

    def parameter(self, name: str) -> str:
        if name in self.parameters:
            return str(self.parameters[name])
        return str(self.stack.template["Parameters"][name].get("Default", ""))

    def ref(self, name: str) -> Any:
        pseudo = {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account,
            "AWS::Partition": "aws",
            "AWS::StackName": "local",
            "AWS::URLSuffix": "amazonaws.com",
        }
        if name == "AWS::NoValue":
            return _NO_VALUE
        if name in pseudo:
            return pseudo[name]
        if name in self.stack.template.get("Parameters", {}):
            return self.parameter(name)
        if name in self.extra_refs:
            return self.extra_refs[name]
        return self.stack.queue_urls.get(name) or self.stack.names.get(name, name)

    def get_att(self, logical_id: str, attribute: str) -> str:
        kind = self.stack.template["Resources"].get(logical_id, {}).get("Type", "")
        name = self.stack.names.get(logical_id, logical_id)
        if kind == "AWS::SQS::Queue":
            return self.stack.queue_arns[logical_id] if attribute == "Arn" else name
        arns = {
            "AWS::DynamoDB::Table": f"arn:aws:dynamodb:{self.region}:{self.account}:table/{name}",
            "AWS::S3::Bucket": f"arn:aws:s3:::{name}",
            "AWS::Serverless::Function": f"arn:aws:lambda:{self.region}:{self.account}:function:{name}",
            "AWS::Logs::LogGroup": f"arn:aws:logs:{self.region}:{self.account}:log-group:{name}:*",
            "AWS::SNS::Topic": f"arn:aws:sns:{self.region}:{self.account}:{name}",
        }
        return arns.get(kind, f"arn:aws:unknown:::{logical_id}/{attribute}")

    def condition(self, name: str) -> bool:
        return bool(self.evaluate(self.stack.template.get("Conditions", {})[name]))

    def evaluate(self, expression: Any) -> Any:
        """A condition or rule expression (`Fn::Equals`, `Fn::Not`, `Fn::And`, `Fn::Or`, `Condition`)."""
        if isinstance(expression, dict) and len(expression) == 1:
            [(name, argument)] = expression.items()
            if name == "Fn::Equals":
                left, right = (self.evaluate(item) for item in argument)
                return str(left) == str(right)
            if name == "Fn::Not":
                return not self.evaluate(argument[0])
            if name == "Fn::And":
                return all(self.evaluate(item) for item in argument)
            if name == "Fn::Or":
                return any(self.evaluate(item) for item in argument)
            if name == "Condition":
                return self.condition(argument)
        return self.resolve(expression)

    def _sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else argument
        values = {key: self.resolve(item) for key, item in variables.items()}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in values:
                return str(values[name])
            if "." in name and not name.startswith("AWS::"):
                return self.get_att(*name.split(".", 1))
            return str(self.ref(name))

        return re.sub(r"\$\{([^}!]+)\}", replace, text)
