"""`python -m local_server.emulator` (`make run-aws`): the Lambda handlers behind an emulated API Gateway."""

from __future__ import annotations

import argparse
import logging
import logging.config
import sys
import time

import uvicorn

from local_server.__main__ import WS_MAX_BYTES
from local_server.client import command_line
from local_server.emulator.gateway import GatewayLimits, create_gateway_app
from local_server.emulator.stack import MotoServer, build_emulated_stack
from local_server.emulator.whole_lines import WholeLines
from local_server.iam import TranslatorMissing
from local_server.logs import logging_config

logger = logging.getLogger("local_server.emulator")
QUIET_LIBRARIES = ("botocore", "boto3", "urllib3", "langgraph_checkpoint_aws")


def main(argv: list[str] | None = None) -> None:
    """Parse the command line, set the stack up, and serve until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m local_server.emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001, help="port of the API and the page (default 8001)")
    parser.add_argument("--endpoint-url", help="DynamoDB/SQS/S3/SSM endpoint (default: start moto's server)")
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    parser.add_argument("--idle-timeout", type=float, default=600, help="seconds (API Gateway: 600)")
    parser.add_argument("--max-connection", type=float, default=7200, help="seconds (API Gateway: 7200)")
    parser.add_argument("--no-iam", action="store_true", help="do not enforce the functions' IAM roles")
    parser.add_argument(
        "--parameter", action="append", default=[], metavar="KEY=VALUE", help="a template parameter"
    )
    args = parser.parse_args(argv)
    sys.stdout = WholeLines(sys.stdout)  # before the functions load: their loggers write to it
    log_config = logging_config(args.log_level)
    logging.config.dictConfig(log_config)
    if args.log_level != "debug":
        # As in Lambda, where the root logger warns: the libraries' chatter (credentials found, every
        # checkpoint write) stays out; the handlers' own log lines (Powertools, at LOG_LEVEL) stay in.
        for library in QUIET_LIBRARIES:
            logging.getLogger(library).setLevel(logging.WARNING)
    started = time.monotonic()
    moto = None if args.endpoint_url else MotoServer().start(in_process_clients=True)
    endpoint = args.endpoint_url or (moto.url if moto else "")
    management = f"http://{args.host}:{args.port}"
    parameters = dict(item.split("=", 1) for item in args.parameter)
    try:
        emulated = build_emulated_stack(
            endpoint,
            management,
            parameters=parameters,
            limits=GatewayLimits(
                idle_timeout_seconds=args.idle_timeout, max_connection_seconds=args.max_connection
            ),
            enforce_iam=not args.no_iam,
            in_process=moto is not None,
        )
    except TranslatorMissing as error:
        parser.error(f"{error} (run `make run-aws`, which installs it, or pass --no-iam)")
    stage = emulated.gateway.spec.stage
    token = emulated.token()
    logger.info("state in %s (%s)", endpoint, "moto's server" if moto else "given endpoint")
    logger.info("WebSocket API: ws://%s:%d/%s (also /ws), stage %s", args.host, args.port, stage, stage)
    # A development token for the demo customer, printed (not logged: log lines never carry tokens).
    base = f"{args.host}:{args.port}"
    print(f"chat page: http://{base}/#token={token}", flush=True)
    print(f"terminal:  {command_line(f'ws://{base}/{stage}', token)}", flush=True)
    logger.info("ready in %.1f s", time.monotonic() - started)
    try:
        with emulated.running():
            uvicorn.run(
                create_gateway_app(emulated.gateway),
                host=args.host,
                port=args.port,
                log_level=args.log_level,
                log_config=log_config,
                ws_max_size=WS_MAX_BYTES,
            )
    finally:
        if moto is not None:
            moto.stop()


if __name__ == "__main__":
    main()
