"""The shared runtime: the `/ws` protocol, sessions, admission and the turn engine.

Light modules (`protocol`, `sessions`, `admission`) import neither LangGraph nor boto3, so route
handlers stay fast to cold-start; `engine` and `turns` import LangGraph.
"""
