"""The agent worker: run queued turns with the shared engine, DynamoDB checkpoints and the API Gateway sink."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from chat_runtime.aws.connections import ConnectionStore
from chat_runtime.aws.dynamodb_sessions import DynamoDBSessionManager
from chat_runtime.aws.gateway import management_client
from chat_runtime.aws.jobs import JobKind, TurnJob
from chat_runtime.aws.sender import ApiGatewaySender, SenderStats
from chat_runtime.aws.settings import AwsSettings
from chat_runtime.engine import FrameSink, TurnOutcome
from chat_runtime.protocol import InterruptResponseFrame, ServerFrame, TokenFrame
from chat_runtime.turns import TurnRunner


@dataclass
class TurnReport:
    """What one job did, for logs and metrics."""

    outcome: TurnOutcome | None
    seconds: float
    first_token_seconds: float | None
    sender: SenderStats
    approved: bool | None = None


@dataclass
class WorkerDeps:
    """What the worker talks to; built once per Lambda container."""

    runner: TurnRunner
    checkpointer: Any
    connections: ConnectionStore
    gateway: Any = field(default=management_client)

    @classmethod
    def from_settings(cls, settings: AwsSettings) -> WorkerDeps:
        """The agent on DynamoDB (checkpoints compressed, large ones offloaded to S3) and the settings' model."""
        import boto3
        from langgraph_checkpoint_aws import DynamoDBSaver

        from support_agent.factory import build_agent
        from support_agent.settings import Settings

        checkpointer = DynamoDBSaver(
            table_name=settings.checkpoints_table,
            endpoint_url=settings.dynamodb_endpoint_url,
            ttl_seconds=settings.session_ttl_seconds or None,
            enable_checkpoint_compression=True,
            s3_offload_config={"bucket_name": settings.checkpoint_bucket} if settings.checkpoint_bucket else None,
        )
        dynamodb = boto3.client("dynamodb", endpoint_url=settings.dynamodb_endpoint_url)
        sessions = DynamoDBSessionManager(settings.sessions_table, settings.session_ttl_seconds, client=dynamodb)
        graph = build_agent(Settings(), checkpointer)
        return cls(
            runner=TurnRunner(graph=graph, sessions=sessions),
            checkpointer=checkpointer,
            connections=ConnectionStore(settings.connections_table, client=dynamodb),
        )


async def process_job(job: TurnJob, deps: WorkerDeps) -> TurnReport:
    """Run one job: a turn (streamed to the job's connection) or the purge of an expired thread."""
    started = time.monotonic()
    if job.kind is JobKind.PURGE or job.frame is None:
        await asyncio.to_thread(deps.checkpointer.delete_thread, job.thread_id)
        return TurnReport(None, time.monotonic() - started, None, SenderStats())
    first_token: list[float] = []
    client = deps.gateway(job.endpoint_url)
    on_gone = partial(deps.connections.mark_gone, job.connection_id)
    async with ApiGatewaySender(client, job.connection_id, on_gone=on_gone) as sender:

        async def timed(frame: ServerFrame) -> None:
            if isinstance(frame, TokenFrame) and not first_token:
                first_token.append(time.monotonic() - started)
            await sender(frame)

        sink: FrameSink = timed
        outcome = await deps.runner.handle(job.frame, sink, configurable={"customer_id": job.customer_id})
    record = deps.runner.sessions.get_state(job.thread_id)
    if outcome is None and record is not None and record.is_expired(deps.runner.sessions.now()):
        await asyncio.to_thread(deps.checkpointer.delete_thread, job.thread_id)
    approved = job.frame.approved if isinstance(job.frame, InterruptResponseFrame) else None
    return TurnReport(outcome, time.monotonic() - started, first_token[0] if first_token else None, sender.stats, approved)


def publish_metrics(report: TurnReport, metrics: Any) -> None:
    """Turn latency, first-token latency, frames and calls, approvals and rejections (Powertools Metrics)."""
    from aws_lambda_powertools.metrics import MetricUnit

    metrics.add_metric(name="TurnLatency", unit=MetricUnit.Seconds, value=report.seconds)
    if report.first_token_seconds is not None:
        metrics.add_metric(name="FirstTokenLatency", unit=MetricUnit.Seconds, value=report.first_token_seconds)
    metrics.add_metric(name="FramesSent", unit=MetricUnit.Count, value=report.sender.frames_posted)
    metrics.add_metric(name="PostCalls", unit=MetricUnit.Count, value=report.sender.calls)
    if report.sender.gone:
        metrics.add_metric(name="ConnectionsGone", unit=MetricUnit.Count, value=1)
    if report.approved is not None:
        metrics.add_metric(name="Approvals" if report.approved else "Rejections", unit=MetricUnit.Count, value=1)


_default_deps: WorkerDeps | None = None


def default_worker_deps() -> WorkerDeps:
    """The worker's dependencies from the environment, built once per Lambda container."""
    global _default_deps
    if _default_deps is None:
        _default_deps = WorkerDeps.from_settings(AwsSettings())  # type: ignore[call-arg]
    return _default_deps


def run_record(body: str, metrics: Any) -> TurnReport:
    """Run the job in one SQS message body and publish its metrics."""
    job = TurnJob.model_validate_json(body)
    report = asyncio.run(process_job(job, default_worker_deps()))
    publish_metrics(report, metrics)
    return report
