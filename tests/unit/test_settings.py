"""Settings choose the model and the order store; incomplete settings fail clearly."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from support_agent.factory import build_chat_model, build_order_store
from support_agent.models.offline import OfflineSupportModel
from support_agent.orders.store import InMemoryOrderStore
from support_agent.settings import Settings


def test_defaults_are_offline_and_in_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MODEL_PROVIDER", "ORDER_STORE", "SESSION_TTL_SECONDS"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert isinstance(build_chat_model(settings), OfflineSupportModel)
    store = build_order_store(settings)
    assert isinstance(store, InMemoryOrderStore) and store.get("demo-customer", "1042") is not None
    assert settings.session_ttl_seconds == 1800


def test_bedrock_is_chosen_by_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODEL_PROVIDER", "bedrock")
    monkeypatch.setenv("BEDROCK_MODEL_ID", "anthropic.claude-3-haiku-20240307-v1:0")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    model = build_chat_model(Settings())
    assert type(model).__name__ == "ChatBedrockConverse"
    assert model.model_id == "anthropic.claude-3-haiku-20240307-v1:0"  # type: ignore[attr-defined]
    assert model.region_name == "eu-west-1"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"MODEL_PROVIDER": "bedrock"}, "BEDROCK_MODEL_ID"),
        ({"ORDER_STORE": "dynamodb"}, "ORDERS_TABLE"),
        ({"MODEL_PROVIDER": "openai"}, "model_provider"),
        ({"SESSION_TTL_SECONDS": "-5"}, "session_ttl_seconds"),
    ],
)
def test_incomplete_settings_fail_clearly(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], message: str
) -> None:
    monkeypatch.delenv("BEDROCK_MODEL_ID", raising=False)
    monkeypatch.delenv("ORDERS_TABLE", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=message):
        Settings()
