"""Who is on the other end: JWT verification shared by the API Gateway authorizer and the local server.

A token names its principal in `sub` and the shop customer in a claim (`customer_id` by default; the
principal when absent). HS256 with a shared secret, or RS256 with keys from a JWKS URL (e.g. a Cognito user
pool); expiry, issuer and audience are checked. Tokens are never logged.

A key removed from the JWKS stops verifying once the cached key set is refreshed (every
`jwks_cache_seconds`); keys are never cached for longer than the set they came from.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import jwt

CLOCK_SKEW_SECONDS = 30
MIN_SECRET_BYTES = 32  # RFC 7518 3.2: an HS256 key at least as long as the hash output
DEFAULT_JWKS_CACHE_SECONDS = 300


class AuthError(Exception):
    """The token is missing, malformed, expired, or not for us; the message is safe to log."""


def token_has_expired(expires_at: float | None, now: float) -> bool:
    """Whether a token valid until `expires_at` (None: no expiry known) has expired at `now`."""
    return expires_at is not None and now > expires_at + CLOCK_SKEW_SECONDS


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller: who (`subject`) and whose orders (`customer_id`)."""

    subject: str
    customer_id: str
    expires_at: float | None = None

    def is_expired(self, now: float) -> bool:
        """Whether the token that vouched for this principal has expired at `now` (after the skew)."""
        return token_has_expired(self.expires_at, now)


@dataclass(frozen=True)
class TokenVerifier:
    """Verifies bearer tokens.

    Attributes:
        secret: The HS256 shared secret (exclusive with `jwks_url`).
        jwks_url: Where RS256 public keys are published.
        issuer: The required `iss`, when set.
        audience: The required `aud`, when set.
        customer_claim: The claim that holds the customer id.
        jwks_cache_seconds: How long a fetched key set is trusted before it is fetched again.

    Raises:
        ValueError: For a secret shorter than 32 bytes, or a JWKS URL without issuer and audience (any
            token of any app using the same identity provider would be accepted).
    """

    secret: str | None = None
    jwks_url: str | None = None
    issuer: str | None = None
    audience: str | None = None
    customer_claim: str = "customer_id"
    jwks_cache_seconds: float = DEFAULT_JWKS_CACHE_SECONDS
    _jwks: Any = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if bool(self.secret) == bool(self.jwks_url):
            raise ValueError("configure exactly one of a JWT secret or a JWKS URL")
        if self.secret and len(self.secret.encode()) < MIN_SECRET_BYTES:
            raise ValueError(
                f"the JWT secret is {len(self.secret.encode())} bytes; use at least {MIN_SECRET_BYTES}, "
                "e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))'"
            )
        if self.jwks_url:
            if not (self.issuer and self.audience):
                raise ValueError(
                    "a JWKS URL needs JWT_ISSUER and JWT_AUDIENCE too: without them tokens your identity "
                    "provider issued for other apps would be accepted"
                )
            client = jwt.PyJWKClient(
                self.jwks_url, cache_keys=False, cache_jwk_set=True, lifespan=self.jwks_cache_seconds
            )
            object.__setattr__(self, "_jwks", client)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> TokenVerifier | None:
        """The verifier the environment describes, or None when no secret or JWKS URL is configured.

        `JWT_SECRET` (or `JWT_SECRET_PARAMETER`: an SSM SecureString's name), or `JWKS_URL` with
        `JWT_ISSUER` and `JWT_AUDIENCE`; optional `JWT_CUSTOMER_CLAIM`, `JWKS_CACHE_SECONDS`.
        """
        secret = environ.get("JWT_SECRET") or None
        parameter = environ.get("JWT_SECRET_PARAMETER")
        if secret is None and parameter:
            import boto3

            response = boto3.client("ssm").get_parameter(Name=parameter, WithDecryption=True)
            secret = response["Parameter"]["Value"]
        jwks_url = environ.get("JWKS_URL") or None
        if secret is None and jwks_url is None:
            return None
        return cls(
            secret=secret,
            jwks_url=jwks_url,
            issuer=environ.get("JWT_ISSUER") or None,
            audience=environ.get("JWT_AUDIENCE") or None,
            customer_claim=environ.get("JWT_CUSTOMER_CLAIM", "customer_id"),
            jwks_cache_seconds=float(environ.get("JWKS_CACHE_SECONDS", DEFAULT_JWKS_CACHE_SECONDS)),
        )

    def verify(self, token: str | None) -> Principal:
        """The principal the token names.

        Raises:
            AuthError: For a missing, malformed, expired or foreign token.
        """
        if not token:
            raise AuthError("missing token")
        try:
            if self._jwks is not None:
                key: Any = self._jwks.get_signing_key_from_jwt(token).key
                algorithms = ["RS256"]
            else:
                key, algorithms = self.secret, ["HS256"]
            claims = jwt.decode(
                token,
                key,
                algorithms=algorithms,
                audience=self.audience,
                issuer=self.issuer,
                leeway=CLOCK_SKEW_SECONDS,
                options={"require": ["exp", "sub"], "verify_aud": self.audience is not None},
            )
        except jwt.PyJWTError as error:
            raise AuthError(f"invalid token: {type(error).__name__}") from None
        subject = str(claims["sub"])
        customer = claims.get(self.customer_claim) or subject
        return Principal(subject=subject, customer_id=str(customer), expires_at=float(claims["exp"]))


def mint_token(
    secret: str,
    subject: str,
    customer_id: str | None = None,
    *,
    issuer: str | None = None,
    audience: str | None = None,
    ttl_seconds: int = 3600,
) -> str:
    """An HS256 token for development and tests (production tokens come from your identity provider)."""
    now = int(time.time())
    claims: dict[str, Any] = {"sub": subject, "iat": now, "exp": now + ttl_seconds}
    if customer_id:
        claims["customer_id"] = customer_id
    if issuer:
        claims["iss"] = issuer
    if audience:
        claims["aud"] = audience
    return jwt.encode(claims, secret, algorithm="HS256")


def thread_key(thread_id: str, owner: str | None) -> str:
    """The storage key of a client's thread: scoped to its owner, so nobody can reach another's thread.

    `#` never occurs in a thread id, so the key names exactly one (owner, thread) pair.
    """
    return thread_id if owner is None else f"{owner}#{thread_id}"
