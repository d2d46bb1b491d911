"""DynamoDB writes an item atomically: a reader never sees half of an update. moto, in-process, builds an
item attribute by attribute; the emulator's in-process clients run one DynamoDB request at a time, so its
handlers (threads of one process) see what DynamoDB would show them."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator

import boto3
import pytest

from local_server.emulator.stack import MotoServer

pytestmark = pytest.mark.integration
ATTRIBUTES = 30


@pytest.fixture
def moto_in_process() -> Iterator[MotoServer]:
    server = MotoServer().start(in_process_clients=True)
    try:
        yield server
    finally:
        server.stop()


def half_items_seen(rounds: int = 100) -> list[int]:
    """Create items with one `UpdateItem` of many attributes while another thread reads them."""
    client = boto3.client("dynamodb", region_name="us-east-1")
    client.create_table(
        TableName="items",
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    names = {f"#a{i}": f"a{i}" for i in range(ATTRIBUTES)}
    values = {f":v{i}": {"S": "x" * 50} for i in range(ATTRIBUTES)}
    expression = "SET " + ", ".join(f"#a{i} = :v{i}" for i in range(ATTRIBUTES))
    current = [0]
    done = threading.Event()
    partial: list[int] = []

    def read() -> None:
        reader = boto3.client("dynamodb", region_name="us-east-1")
        while not done.is_set():
            item = reader.get_item(TableName="items", Key={"k": {"S": str(current[0])}}).get("Item")
            if item is not None and len(item) != ATTRIBUTES + 1:
                partial.append(len(item))

    thread = threading.Thread(target=read)
    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as the interpreter can: the race shows at once
    thread.start()
    try:
        for n in range(rounds):
            current[0] = n
            client.update_item(
                TableName="items",
                Key={"k": {"S": str(n)}},
                UpdateExpression=expression,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
    finally:
        done.set()
        thread.join()
        sys.setswitchinterval(switch)
    return partial


def test_a_reader_never_sees_half_of_a_new_item(moto_in_process: MotoServer) -> None:
    assert half_items_seen() == []
