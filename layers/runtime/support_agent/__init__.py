"""The support agent: the LangGraph graph, its tools and order store, and its chat models."""
