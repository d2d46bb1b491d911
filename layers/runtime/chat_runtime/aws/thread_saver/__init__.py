"""LangGraph checkpoints in one DynamoDB partition per thread (`DynamoDBThreadSaver`)."""

from chat_runtime.aws.thread_saver.factory import thread_saver
from chat_runtime.aws.thread_saver.saver import DynamoDBThreadSaver, item_ttl_seconds

__all__ = ["DynamoDBThreadSaver", "item_ttl_seconds", "thread_saver"]
