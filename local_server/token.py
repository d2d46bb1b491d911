"""`python -m local_server.token`: mint a development JWT (HS256) for the local server or a dev stack.

Production tokens come from your identity provider (e.g. Cognito, with the stack's `JwksUrl`).
"""

from __future__ import annotations

import argparse
import os

from chat_runtime.auth import mint_token


def main(argv: list[str] | None = None) -> None:
    """Print a token."""
    parser = argparse.ArgumentParser(prog="python -m local_server.token", description=__doc__)
    parser.add_argument(
        "--secret", default=os.environ.get("JWT_SECRET"), help="the HS256 secret (default $JWT_SECRET)"
    )
    parser.add_argument("--subject", required=True, help="the principal (sub)")
    parser.add_argument("--customer", help="the customer id (default: the subject)")
    parser.add_argument("--issuer", default=os.environ.get("JWT_ISSUER"))
    parser.add_argument("--audience", default=os.environ.get("JWT_AUDIENCE"))
    parser.add_argument("--ttl", type=int, default=3600, help="seconds until it expires (default 3600)")
    args = parser.parse_args(argv)
    if not args.secret:
        parser.error("--secret or JWT_SECRET is required")
    print(
        mint_token(
            args.secret,
            args.subject,
            args.customer,
            issuer=args.issuer,
            audience=args.audience,
            ttl_seconds=args.ttl,
        )
    )


if __name__ == "__main__":
    main()
