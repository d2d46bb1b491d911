"""LangGraph checkpoints in one DynamoDB partition per thread (`DynamoDBThreadSaver`)."""

from chat_runtime.aws.thread_saver.factory import expire_for, thread_saver
from chat_runtime.aws.thread_saver.saver import DynamoDBThreadSaver, item_ttl_seconds

__all__ = ["DynamoDBThreadSaver", "expire_for", "item_ttl_seconds", "thread_saver"]
