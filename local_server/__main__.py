"""`python -m local_server`: serve the support agent with uvicorn (embedded defaults, or on DynamoDB)."""

from __future__ import annotations

import argparse
import ipaddress
import logging
import logging.config
import os

import uvicorn

from chat_runtime.auth import TokenVerifier
from chat_runtime.limits import DEFAULT_BURST, DEFAULT_FRAMES_PER_SECOND
from chat_runtime.protocol import MAX_FRAME_BYTES
from local_server.app import create_app
from local_server.logs import logging_config

# Frames over 32 KiB get a clear `message_too_large` error; bigger ones are not read at all (the connection
# is closed with 1009, as API Gateway does for messages over its 128 KB limit).
WS_MAX_BYTES = 4 * MAX_FRAME_BYTES


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and serve until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m local_server", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    parser.add_argument(
        "--store",
        choices=["memory", "dynamodb"],
        default="memory",
        help="memory (default): all in process; dynamodb: sessions, checkpoints and orders in DynamoDB",
    )
    parser.add_argument(
        "--endpoint-url", help="DynamoDB/S3 endpoint for --store dynamodb (e.g. a moto_server)"
    )
    parser.add_argument(
        "--table-prefix", default="local", help="table names are PREFIX-LogicalId (default local)"
    )
    parser.add_argument(
        "--no-rate-limit",
        action="store_true",
        help="no per-connection frame limit (for benchmarks; the default allows 5 frames/s, bursts of 20)",
    )
    args = parser.parse_args(argv)
    rate_limit = None if args.no_rate_limit else (DEFAULT_FRAMES_PER_SECOND, DEFAULT_BURST)
    log_config = logging_config(args.log_level)
    logging.config.dictConfig(log_config)
    try:
        verifier = TokenVerifier.from_environment()
    except ValueError as error:
        parser.error(str(error))
    if verifier is None:
        logging.getLogger("local_server").warning(
            "DEMO MODE: no JWT_SECRET or JWKS_URL configured, every connection acts as demo-customer"
        )
    if args.store == "dynamodb":
        from chat_runtime.aws.worker import CHECKPOINT_ONCE
        from local_server.dynamodb import dynamodb_backend
        from support_agent.settings import Settings

        if args.endpoint_url:
            os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
        settings = Settings()
        graph, sessions = dynamodb_backend(settings, args.endpoint_url, args.table_prefix)
        app = create_app(
            graph=graph,
            session_manager=sessions,
            stream_options=CHECKPOINT_ONCE,
            verifier=verifier,
            rate_limit=rate_limit,
        )
    else:
        app = create_app(verifier=verifier, rate_limit=rate_limit)
    announce(args.host, args.port, signed_in=verifier is not None)
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        log_config=log_config,
        ws_max_size=WS_MAX_BYTES,
    )


def announce(host: str, port: int, *, signed_in: bool) -> None:
    """Say where to point a browser and a WebSocket client (what a person looks for first)."""
    try:
        every_interface = ipaddress.ip_address(host).is_unspecified
    except ValueError:
        every_interface = False
    shown = "127.0.0.1" if every_interface else host
    where = f"[{shown}]" if ":" in shown else shown
    log = logging.getLogger("local_server")
    log.info("chat page: http://%s:%d/", where, port)
    log.info("WebSocket: ws://%s:%d/ws", where, port)
    if signed_in:
        log.info("signed-in mode: paste a token under Settings (python -m local_server.token --subject NAME)")


if __name__ == "__main__":
    main()
