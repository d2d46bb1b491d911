"""Which graph the runtime serves: an entry of a `langgraph.json`, the file LangGraph's own CLI reads.

```json
{"dependencies": ["."], "graphs": {"assistant": "./assistant.py:make_graph"}, "env": {"KEY": "value"}}
```

`LANGGRAPH_CONFIG` names the file and `GRAPH` the entry (default: the only, or the first, one); without
`LANGGRAPH_CONFIG` the runtime serves the support agent. An entry is `module.path:attribute` or
`./file.py:attribute` (relative to the file). The attribute is a compiled graph, a `StateGraph`, or a factory
(called with the run config, or with nothing) that returns either; the runtime compiles it with, or gives
it, its own checkpointer. `dependencies` that are local folders are importable; `env` (an object, or the
path of a `.env` file) fills environment variables that are not set already. `chat_page` (an object of
strings: `title`, `placeholder`, `welcome`) gives the chat page its texts for this graph.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver

CONFIG_VARIABLE = "LANGGRAPH_CONFIG"
GRAPH_VARIABLE = "GRAPH"


class GraphConfigError(ValueError):
    """The graph configuration cannot be used; the message says why and what to fix."""


@dataclass(frozen=True)
class GraphConfig:
    """A parsed `langgraph.json`."""

    path: Path
    graphs: dict[str, str]
    dependencies: list[str] = field(default_factory=list)
    env: dict[str, str] | str = field(default_factory=dict)
    chat_page: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, path: str | Path) -> GraphConfig:
        """Read and check a `langgraph.json`.

        Raises:
            GraphConfigError: Missing file, invalid JSON, or no `graphs`.
        """
        file = Path(path).resolve()
        try:
            data = json.loads(file.read_text("utf-8"))
        except OSError as error:
            raise GraphConfigError(f"{CONFIG_VARIABLE}={path}: cannot read it ({error.strerror})") from None
        except ValueError as error:
            raise GraphConfigError(f"{path} is not valid JSON: {error}") from None
        graphs = data.get("graphs") if isinstance(data, dict) else None
        if not isinstance(graphs, dict) or not graphs or not all(isinstance(v, str) for v in graphs.values()):
            raise GraphConfigError(f'{path} needs "graphs": {{"name": "module:attribute"}} with at least one')
        env = data.get("env", {})
        if not isinstance(env, dict | str):
            raise GraphConfigError(f'{path}: "env" must be an object or the path of a .env file')
        chat_page = data.get("chat_page", {})
        if not isinstance(chat_page, dict) or not all(isinstance(v, str) for v in chat_page.values()):
            raise GraphConfigError(
                f'{path}: "chat_page" must be an object of texts (title, placeholder, welcome)'
            )
        return cls(file, dict(graphs), list(data.get("dependencies", [])), env, dict(chat_page))

    def entry(self, name: str | None) -> tuple[str, str]:
        """(name, `module:attribute`) of the chosen graph."""
        if name is None:
            name = next(iter(self.graphs))
        if name not in self.graphs:
            raise GraphConfigError(
                f"{GRAPH_VARIABLE}={name} is not in {self.path}: choose one of {sorted(self.graphs)}"
            )
        return name, self.graphs[name]

    def apply(self) -> None:
        """Make the local dependencies importable and fill the environment from `env`."""
        for dependency in self.dependencies:
            folder = (self.path.parent / dependency).resolve()
            if folder.is_dir() and str(folder) not in sys.path:
                sys.path.insert(0, str(folder))
        variables = self.env if isinstance(self.env, dict) else _dotenv(self.path.parent / self.env)
        for key, value in variables.items():
            os.environ.setdefault(key, str(value))


def _dotenv(path: Path) -> dict[str, str]:
    variables: dict[str, str] = {}
    for line in path.read_text("utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            variables[key.strip()] = value.strip().strip("'\"")
    return variables


def import_target(reference: str, base: Path) -> Any:
    """The object `module.path:attribute` or `./file.py:attribute` (relative to `base`) names."""
    location, sep, attribute = reference.rpartition(":")
    if not sep or not location or not attribute:
        raise GraphConfigError(f"{reference!r} is not 'module:attribute' or './file.py:attribute'")
    if location.endswith(".py"):
        file = (base / location).resolve()
        spec = importlib.util.spec_from_file_location(f"_graph_{file.stem}", file)
        if spec is None or spec.loader is None or not file.exists():
            raise GraphConfigError(f"{reference}: {file} does not exist")
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
    else:
        module = importlib.import_module(location)
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise GraphConfigError(f"{reference}: {location} has no {attribute!r}") from None


def compiled_with(target: Any, checkpointer: BaseCheckpointSaver[Any] | None) -> Any:
    """A compiled graph on `checkpointer`, from a compiled graph, a `StateGraph` or a factory of either."""
    from langgraph.graph import StateGraph
    from langgraph.pregel import Pregel

    if not isinstance(target, Pregel | StateGraph) and callable(target):
        config: dict[str, Any] = {"configurable": {}}
        target = target(config) if inspect.signature(target).parameters else target()
    if isinstance(target, StateGraph):
        return target.compile(checkpointer=checkpointer)
    if isinstance(target, Pregel):
        target.checkpointer = checkpointer
        return target
    raise GraphConfigError(f"the graph entry gave {type(target).__name__}, not a graph or a StateGraph")


def configured_graph(checkpointer: BaseCheckpointSaver[Any] | None) -> Any | None:
    """The graph `LANGGRAPH_CONFIG` and `GRAPH` select, on `checkpointer`; None when none is configured."""
    path = os.environ.get(CONFIG_VARIABLE)
    if not path:
        return None
    config = GraphConfig.load(path)
    config.apply()
    _, reference = config.entry(os.environ.get(GRAPH_VARIABLE) or None)
    return compiled_with(import_target(reference, config.path.parent), checkpointer)
