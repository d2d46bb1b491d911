"""The AWS transport: DynamoDB sessions and connections, API Gateway frames, the SQS FIFO hand-off.

Route handlers import `routes` (no LangGraph); the worker imports `worker`.
"""
