"""The local development server: the same `/ws` protocol as the AWS deployment, in one process."""

from local_server.app import create_app

__all__ = ["create_app"]
