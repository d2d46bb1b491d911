"""Choosing the served graph with a `langgraph.json`, and the model with `MODEL`."""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from pydantic import ValidationError

from chat_runtime.graphs import GraphConfig, GraphConfigError, compiled_with, configured_graph, import_target
from support_agent.factory import build_chat_model
from support_agent.models.offline import OfflineSupportModel
from support_agent.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "assistant" / "langgraph.json"


def test_without_a_config_the_support_agent_is_served(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LANGGRAPH_CONFIG", raising=False)
    assert configured_graph(InMemorySaver()) is None


def test_the_example_is_loaded_compiled_on_our_checkpointer_with_its_env(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LANGGRAPH_CONFIG", str(EXAMPLE))
    monkeypatch.delenv("NOTES_LIMIT", raising=False)
    saver = InMemorySaver()
    graph = configured_graph(saver)
    assert graph is not None and graph.checkpointer is saver
    assert set(graph.get_graph().nodes) == {"__start__", "assistant", "__end__"}
    assert os.environ["NOTES_LIMIT"] == "3"  # from "env", without overriding what is set
    monkeypatch.setenv("NOTES_LIMIT", "7")
    GraphConfig.load(EXAMPLE).apply()
    assert os.environ["NOTES_LIMIT"] == "7"


def test_entries_may_be_modules_compiled_graphs_or_factories(tmp_path: Path) -> None:
    compiled = import_target("support_agent.graph:build_support_graph", tmp_path)
    assert callable(compiled)
    example = import_target("./assistant.py:make_graph", EXAMPLE.parent)
    saver = InMemorySaver()
    built = compiled_with(example, saver)
    assert compiled_with(built, None).checkpointer is None  # a compiled graph gets the runtime's checkpointer
    assert compiled_with(lambda: example(None), saver).checkpointer is saver  # a factory without arguments


@pytest.mark.parametrize(
    ("content", "graph", "message"),
    [
        ("{", None, "not valid JSON"),
        ('{"graphs": {}}', None, '"graphs"'),
        ('{"graphs": {"a": "./missing.py:graph"}}', None, "does not exist"),
        ('{"graphs": {"a": "no_colon"}}', None, "module:attribute"),
        ('{"graphs": {"a": "json:nothing_here"}}', None, "has no 'nothing_here'"),
        ('{"graphs": {"a": "json:dumps"}}', "b", "GRAPH=b is not in"),
        ('{"graphs": {"a": "json:dumps"}}', None, "not a graph"),
    ],
)
def test_a_bad_config_says_what_to_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: str, graph: str | None, message: str
) -> None:
    config = tmp_path / "langgraph.json"
    config.write_text(content)
    monkeypatch.setenv("LANGGRAPH_CONFIG", str(config))
    if graph:
        monkeypatch.setenv("GRAPH", graph)
    else:
        monkeypatch.delenv("GRAPH", raising=False)
    with pytest.raises(GraphConfigError, match=message):
        configured_graph(InMemorySaver())


def test_model_strings_choose_the_chat_model(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MODEL", "MODEL_PROVIDER", "BEDROCK_MODEL_ID"):
        monkeypatch.delenv(name, raising=False)
    assert isinstance(build_chat_model(Settings(model="")), OfflineSupportModel)
    assert isinstance(build_chat_model(Settings(model="offline")), OfflineSupportModel)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    bedrock = build_chat_model(Settings(model="bedrock_converse:anthropic.claude-3-5-haiku-20241022-v1:0"))
    assert type(bedrock).__name__ == "ChatBedrockConverse"
    with pytest.raises(ValueError, match=r"pip install 'ws-support-agent\[openai\]'"):
        build_chat_model(Settings(model="openai:gpt-4o-mini"))
    with pytest.raises(ValidationError, match="model"):
        Settings(model="gpt 4")


def test_each_provider_extra_pins_what_the_layer_build_installs() -> None:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    for provider_file in sorted((ROOT / "layers" / "runtime" / "providers").glob("*.txt")):
        pins = [line for line in provider_file.read_text().splitlines() if line and not line.startswith("#")]
        assert extras[provider_file.stem] == pins
    assert json.loads(EXAMPLE.read_text())["graphs"] == {"assistant": "./assistant.py:make_graph"}
