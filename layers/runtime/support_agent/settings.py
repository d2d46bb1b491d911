"""One settings object, from environment variables: which model, which stores, which TTLs."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Self

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from support_agent.orders.store import DEMO_CUSTOMER_ID


class Settings(BaseSettings):
    """The agent's settings. Every field reads the environment variable of the same name, upper-cased.

    Attributes:
        model: `offline` (deterministic, no network; the default) or an `init_chat_model` string,
            `provider:model`: `bedrock_converse:anthropic.claude-3-5-haiku-20241022-v1:0`,
            `openai:gpt-4o-mini`, `anthropic:claude-3-5-haiku-latest`, `ollama:llama3.1` (the provider's
            package is an optional extra of this project: `pip install 'ws-support-agent[openai]'`).
        model_provider: The older way to choose: `offline` or `bedrock` (with `bedrock_model_id`);
            `model` wins when both are set.
        bedrock_model_id: The Bedrock model (or inference profile) id for `model_provider=bedrock`.
        aws_region: The region for Bedrock and DynamoDB (defaults to the SDK's own choice).
        order_store: `memory` (demo orders, the default) or `dynamodb`.
        orders_table: The DynamoDB orders table; required for `dynamodb`.
        demo_orders_path: A JSON file of orders to seed the memory store (the packaged demo data by default).
        policies_path: The shop's policy document, Markdown with one `##` section per topic (the packaged
            demo policies by default).
        dynamodb_endpoint_url: A DynamoDB endpoint to use instead of AWS (e.g. a local moto server).
        session_ttl_seconds: Inactivity after which a thread expires.
        demo_customer_id: The customer the local server acts for when nobody signs in.
    """

    model_config = SettingsConfigDict(extra="ignore", protected_namespaces=())

    model: str | None = Field(default=None, pattern=r"^(offline|[a-z_]+:\S+)$")
    model_provider: Literal["offline", "bedrock"] = "offline"
    bedrock_model_id: str | None = None
    aws_region: str | None = None
    order_store: Literal["memory", "dynamodb"] = "memory"
    orders_table: str | None = None
    demo_orders_path: Path | None = None
    policies_path: Path | None = None
    dynamodb_endpoint_url: str | None = None
    session_ttl_seconds: int = Field(default=1800, ge=0)
    demo_customer_id: str = DEMO_CUSTOMER_ID

    @field_validator("model", mode="before")
    @classmethod
    def _unset_when_empty(cls, value: object) -> object:
        return value or None  # the stack passes an empty parameter as ""

    @property
    def chat_model(self) -> str:
        """The model as one `init_chat_model` string, or `offline`."""
        if self.model:
            return self.model
        if self.model_provider == "bedrock":
            return f"bedrock_converse:{self.bedrock_model_id}"
        return "offline"

    @model_validator(mode="after")
    def _complete(self) -> Self:
        if self.model is None and self.model_provider == "bedrock" and not self.bedrock_model_id:
            raise ValueError("MODEL_PROVIDER=bedrock needs BEDROCK_MODEL_ID")
        if self.order_store == "dynamodb" and not self.orders_table:
            raise ValueError("ORDER_STORE=dynamodb needs ORDERS_TABLE")
        return self
