"""What the Lambda functions read from their environment (set by `template.yaml`)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class AwsSettings(BaseSettings):
    """Table, queue and bucket names and the session TTL, from environment variables of the same name."""

    model_config = SettingsConfigDict(extra="ignore")

    connections_table: str
    sessions_table: str
    turn_queue_url: str = ""
    checkpoints_table: str = ""
    checkpoint_bucket: str = ""
    idempotency_table: str = ""
    session_ttl_seconds: int = Field(default=1800, ge=0)
    demo_customer_id: str = "demo-customer"
    dynamodb_endpoint_url: str | None = None
