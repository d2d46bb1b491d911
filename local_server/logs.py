"""The local server's logging: uvicorn's own configuration, with bearer tokens redacted from every line.

Browsers cannot set headers on a WebSocket, so the token travels in `/ws?token=...`, and uvicorn writes the
full path of every connection and request to its log. Every handler here redacts it first.
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any

from uvicorn.config import LOGGING_CONFIG

_TOKEN = re.compile(r"(?i)\b(token|access_token|id_token)=[^&\s\"']+")
REDACTED = r"\1=[redacted]"


def redact(text: str) -> str:
    """`text` with the value of every `token=` query parameter replaced."""
    return _TOKEN.sub(REDACTED, text)


class RedactTokens(logging.Filter):
    """Rewrites a record's message and arguments so that no token value reaches a log line."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(arg) if isinstance(arg, str) else arg for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: redact(v) if isinstance(v, str) else v for k, v in record.args.items()}
        return True


def logging_config(level: str) -> dict[str, Any]:
    """uvicorn's logging configuration at `level`, every handler (the app's too) redacting tokens."""
    config: dict[str, Any] = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {"redact_tokens": {"()": RedactTokens}}
    for handler in config["handlers"].values():
        handler["filters"] = ["redact_tokens"]
    config["formatters"]["app"] = {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}
    config["handlers"]["app"] = {
        "formatter": "app",
        "class": "logging.StreamHandler",
        "stream": "ext://sys.stderr",
        "filters": ["redact_tokens"],
    }
    config["root"] = {"handlers": ["app"], "level": level.upper()}
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        config["loggers"].setdefault(name, {})["level"] = level.upper()
    return config
