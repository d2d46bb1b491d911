"""Fixtures every suite may use."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from local_server.emulator.stack import MotoServer


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    """moto's server, for the tests that run `make run-aws`'s path in process (each on its own stack)."""
    server = MotoServer().start()
    yield server
    server.stop()
