"""LangGraph checkpoints in one DynamoDB partition per thread (`DynamoDBThreadSaver`)."""

from chat_runtime.aws.thread_saver.factory import thread_saver
from chat_runtime.aws.thread_saver.saver import DynamoDBThreadSaver

__all__ = ["DynamoDBThreadSaver", "thread_saver"]
