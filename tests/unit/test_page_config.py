"""`GET /api/config`'s texts: the shop's, a config's `chat_page`, or defaults from the graph's name."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chat_runtime.graphs import GraphConfig, GraphConfigError
from local_server.page_config import SHOP_TEXTS, page_texts


def test_without_a_config_the_shop_texts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LANGGRAPH_CONFIG", raising=False)
    assert page_texts() == SHOP_TEXTS


def test_a_config_s_chat_page_fills_in_over_defaults_from_the_graph_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "langgraph.json"
    config.write_text(json.dumps({"graphs": {"trip_planner": "./t.py:g"}, "chat_page": {"title": "Trips"}}))
    monkeypatch.setenv("LANGGRAPH_CONFIG", str(config))
    monkeypatch.delenv("GRAPH", raising=False)
    assert page_texts() == {
        "title": "Trips",
        "placeholder": "Type a message",
        "welcome": "You are chatting with the trip planner graph. Write a message to start.",
    }
    config.write_text(json.dumps({"graphs": {"trip_planner": "./t.py:g"}}))
    assert page_texts()["title"] == "Trip planner"


def test_chat_page_must_be_texts(tmp_path: Path) -> None:
    config = tmp_path / "langgraph.json"
    config.write_text(json.dumps({"graphs": {"a": "json:dumps"}, "chat_page": {"title": 3}}))
    with pytest.raises(GraphConfigError, match='"chat_page" must be an object of texts'):
        GraphConfig.load(config)
