"""A hosted model's API key, read once at start from SSM Parameter Store into the environment variable its
LangChain integration reads (`OPENAI_API_KEY`, `ANTHROPIC_API_KEY`, ...).

The key never appears in the template, the function's configuration or a log line: the stack holds the
parameter's name (`ModelApiKeyParameter`), the worker's role may read that one parameter and no other.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from typing import Any

# The variable each integration this project ships (layers/runtime/providers/) reads its key from.
KEY_VARIABLES = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY"}


def api_key_variable(model: str, variable: str = "") -> str:
    """The environment variable that holds the key of `model` (`provider:model`), unless `variable` names it.

    Raises:
        ValueError: The provider is not one whose variable is known, and `variable` is empty.
    """
    if variable:
        return variable
    provider = model.partition(":")[0]
    if provider not in KEY_VARIABLES:
        raise ValueError(
            f"no known API key variable for the model {model!r}: set ModelApiKeyVariable "
            f"(known: {', '.join(f'{name} -> {var}' for name, var in KEY_VARIABLES.items())})"
        )
    return KEY_VARIABLES[provider]


def load_model_api_key(environ: MutableMapping[str, str] | None = None, ssm: Any = None) -> str | None:
    """Put the key named by `MODEL_API_KEY_PARAMETER` (an SSM SecureString) into the model's variable.

    Args:
        environ: The environment to read the settings from and write the key to (default `os.environ`).
        ssm: An SSM client (default: a new boto3 one).

    Returns:
        The variable set, or None when no parameter is configured (nothing is read).

    Raises:
        ValueError: The variable cannot be told (see `api_key_variable`).
    """
    environ = os.environ if environ is None else environ
    parameter = environ.get("MODEL_API_KEY_PARAMETER", "")
    if not parameter:
        return None
    variable = api_key_variable(environ.get("MODEL", ""), environ.get("MODEL_API_KEY_VARIABLE", ""))
    if ssm is None:
        import boto3

        ssm = boto3.client("ssm")
    environ[variable] = ssm.get_parameter(Name=parameter, WithDecryption=True)["Parameter"]["Value"]
    return variable
