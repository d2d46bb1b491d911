"""Build the agent's parts from settings, so the local server, the Lambda worker and tests agree."""

from __future__ import annotations

from typing import Any

from langchain_core.language_models import BaseChatModel
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph.state import CompiledStateGraph

from support_agent.graph import build_support_graph
from support_agent.orders.store import InMemoryOrderStore, OrderStore
from support_agent.policies import load_policies
from support_agent.settings import Settings

# The optional extra of this project that installs each provider's LangChain package.
PROVIDER_EXTRAS = {
    "openai": "openai",
    "anthropic": "anthropic",
    "ollama": "ollama",
    "bedrock_converse": "bedrock",
}


def build_chat_model(settings: Settings) -> BaseChatModel:
    """The chat model the settings choose: the offline model, or any `init_chat_model` provider.

    Raises:
        ValueError: The provider's package is not installed (the message names the extra to install).
    """
    spec = settings.chat_model
    if spec == "offline":
        from support_agent.models.offline import OfflineSupportModel

        return OfflineSupportModel()
    from langchain.chat_models import init_chat_model

    provider = spec.split(":", 1)[0]
    options: dict[str, Any] = {}
    if provider == "bedrock_converse" and settings.aws_region:
        options["region_name"] = settings.aws_region
    try:
        model: BaseChatModel = init_chat_model(spec, **options)
    except ImportError as error:
        extra = PROVIDER_EXTRAS.get(provider, provider)
        raise ValueError(
            f"MODEL={spec} needs the {provider} integration: pip install 'ws-support-agent[{extra}]' "
            f"({error})"
        ) from None
    return model


def build_order_store(settings: Settings) -> OrderStore:
    """The order store the settings choose."""
    if settings.order_store == "dynamodb":
        from support_agent.orders.dynamodb import DynamoDBOrderStore

        assert settings.orders_table is not None  # guaranteed by Settings
        return DynamoDBOrderStore(settings.orders_table, endpoint_url=settings.dynamodb_endpoint_url)
    return InMemoryOrderStore.with_demo_data(settings.demo_orders_path)


def build_agent(
    settings: Settings, checkpointer: BaseCheckpointSaver[Any] | None
) -> CompiledStateGraph[Any, Any, Any, Any]:
    """The support graph on the settings' model and order store."""
    return build_support_graph(
        build_chat_model(settings),
        build_order_store(settings),
        checkpointer,
        load_policies(settings.policies_path),
    )
