"""What the Lambda functions read from their environment (set by `template.yaml`).

A plain dataclass, not pydantic-settings: route handlers read it on every cold start, where
pydantic-settings' import alone costs about 45 ms.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


class MissingSetting(RuntimeError):
    """A required environment variable is not set."""


@dataclass(frozen=True, slots=True)
class AwsSettings:
    """Table, queue and bucket names and the session TTL (from environment variables of the same name)."""

    connections_table: str
    sessions_table: str
    turn_queue_url: str = ""
    checkpoints_table: str = ""
    checkpoint_bucket: str = ""
    frames_table: str = ""
    session_ttl_seconds: int = 1800
    demo_customer_id: str = "demo-customer"
    dynamodb_endpoint_url: str | None = None
    allow_anonymous: bool = False

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> AwsSettings:
        """Read the settings; a missing table name or a bad TTL fails with the variable's name."""

        def required(name: str) -> str:
            value = environ.get(name)
            if not value:
                raise MissingSetting(f"environment variable {name} is not set")
            return value

        ttl_text = environ.get("SESSION_TTL_SECONDS", "1800")
        if not ttl_text.isdigit():
            raise MissingSetting(f"SESSION_TTL_SECONDS must be a whole number of seconds, not {ttl_text!r}")
        return cls(
            connections_table=required("CONNECTIONS_TABLE"),
            sessions_table=required("SESSIONS_TABLE"),
            turn_queue_url=environ.get("TURN_QUEUE_URL", ""),
            checkpoints_table=environ.get("CHECKPOINTS_TABLE", ""),
            checkpoint_bucket=environ.get("CHECKPOINT_BUCKET", ""),
            frames_table=environ.get("FRAMES_TABLE", ""),
            session_ttl_seconds=int(ttl_text),
            demo_customer_id=environ.get("DEMO_CUSTOMER_ID", "demo-customer"),
            dynamodb_endpoint_url=environ.get("DYNAMODB_ENDPOINT_URL") or None,
            allow_anonymous=environ.get("ALLOW_ANONYMOUS", "").lower() == "true",
        )
