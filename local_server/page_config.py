"""`GET /api/config`: the chat page's title, input placeholder and welcome text for the served graph."""

from __future__ import annotations

import os

from starlette.requests import Request
from starlette.responses import JSONResponse

from chat_runtime.graphs import CONFIG_VARIABLE, GRAPH_VARIABLE, GraphConfig, GraphConfigError

SHOP_TEXTS = {
    "title": "Shop support",
    "placeholder": "Ask about an order, e.g. Where is order 1042?",
    "welcome": (
        "Hi! I can tell you where an order is, list your orders, and cancel an order, request a refund or "
        "change a shipping address once you approve. Ask away, e.g. \u201cWhere is order 1042?\u201d"
    ),
}
TEXT_FIELDS = tuple(SHOP_TEXTS)


def page_texts() -> dict[str, str]:
    """The page's texts: the shop's without `LANGGRAPH_CONFIG`; else the config's `chat_page`, filled in
    from the chosen graph's name where it says nothing."""
    path = os.environ.get(CONFIG_VARIABLE)
    if not path:
        return dict(SHOP_TEXTS)
    try:
        config = GraphConfig.load(path)
        name, _ = config.entry(os.environ.get(GRAPH_VARIABLE) or None)
    except GraphConfigError:
        config, name = None, os.environ.get(GRAPH_VARIABLE) or "assistant"
    shown = name.replace("_", " ").replace("-", " ")
    texts = {
        "title": shown[:1].upper() + shown[1:],
        "placeholder": "Type a message",
        "welcome": f"You are chatting with the {shown} graph. Write a message to start.",
    }
    if config is not None:
        texts.update({key: value for key, value in config.chat_page.items() if key in TEXT_FIELDS and value})
    return texts


async def page_config(_: Request) -> JSONResponse:
    """`GET /api/config`: `{"title", "placeholder", "welcome"}` for the chat page."""
    return JSONResponse(page_texts())
