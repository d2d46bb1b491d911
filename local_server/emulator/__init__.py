"""`make run-aws`: the production path on one machine.

The real Lambda handlers run behind an emulated API Gateway WebSocket API read from `template.yaml` (routes,
route selection, the `$connect` authorizer), with a local management API for `post_to_connection`, an SQS
event source that hands turns to the worker, state in moto's server, and each function's IAM role enforced.
"""
