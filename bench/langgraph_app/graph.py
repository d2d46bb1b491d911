"""The support graph as `langgraph dev` serves it (the server supplies its own checkpointer)."""

from support_agent.graph import build_support_graph
from support_agent.models.offline import OfflineSupportModel
from support_agent.orders.store import InMemoryOrderStore

graph = build_support_graph(OfflineSupportModel(), InMemoryOrderStore.with_demo_data(), None)
