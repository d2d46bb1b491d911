"""The worker's job runner: one SQS message body in, one job run, its metrics published.

`make_job_runner` says why the thread's session is all the idempotency a job needs.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from chat_runtime.aws.jobs import TurnJob
from chat_runtime.aws.worker import TurnReport, default_worker_deps, process_job

JobRunner = Callable[[str, float | None, bool], dict[str, Any]]
_default_runner: JobRunner | None = None


def publish_metrics(report: TurnReport, metrics: Any) -> None:
    """Turn latency, first-token latency, frames and calls, approvals and rejections (Powertools Metrics);
    and the turn's steps: `SetupLatency` (job start to first frame), `RunSeconds` (first frame to last:
    model and tools), time in posts (`PostSeconds`) and frame-log writes (`FrameLogSeconds`)."""
    from aws_lambda_powertools.metrics import MetricUnit

    metrics.add_metric(name="TurnLatency", unit=MetricUnit.Seconds, value=report.seconds)
    if report.first_token_seconds is not None:
        metrics.add_metric(
            name="FirstTokenLatency", unit=MetricUnit.Seconds, value=report.first_token_seconds
        )
    if report.first_frame_seconds is not None and report.last_frame_seconds is not None:
        run = report.last_frame_seconds - report.first_frame_seconds
        metrics.add_metric(name="SetupLatency", unit=MetricUnit.Seconds, value=report.first_frame_seconds)
        metrics.add_metric(name="RunSeconds", unit=MetricUnit.Seconds, value=run)
    metrics.add_metric(name="PostSeconds", unit=MetricUnit.Seconds, value=report.sender.post_seconds)
    metrics.add_metric(name="FrameLogSeconds", unit=MetricUnit.Seconds, value=report.sender.log_seconds)
    metrics.add_metric(name="FramesSent", unit=MetricUnit.Count, value=report.sender.frames_posted)
    metrics.add_metric(name="PostCalls", unit=MetricUnit.Count, value=report.sender.calls)
    if report.sender.gone:
        metrics.add_metric(name="ConnectionsGone", unit=MetricUnit.Count, value=1)
    if report.approved is not None:
        metrics.add_metric(
            name="Approvals" if report.approved else "Rejections", unit=MetricUnit.Count, value=1
        )


def make_job_runner(metrics: Any) -> JobRunner:
    """Run one SQS message body as a job.

    SQS delivers at least once; no idempotency record is needed besides the thread's session:
    - attempts of one job never overlap: the queue is FIFO, the worker takes one message at a time, and a
      message becomes visible again only after its visibility timeout (720 s), far past the worker's own
      timeout (120 s), so by then the attempt that took it has ended, one way or another
      (`tests/integration/test_aws_critical_path.py` checks the template); and should SQS ever deliver a
      message twice at once, the claim of the turn holds a lease until the invocation's deadline
      (`lease_until`, `SessionRecord.leased`): a second attempt that finds it live fails its record
      (`AttemptInProgress`), to be delivered again after the visibility timeout, when the first has ended;
    - an attempt that ended the request recorded that in the session (`ended_requests`, with the ending,
      before sending it): its redelivery says nothing more (`chat_runtime.aws.redelivery`);
    - an attempt that died mid-turn left the session `running` with the request's id: its redelivery
      continues numbering after what was logged, and reports the run's outcome from the checkpoint if the
      run had finished, instead of running it again.
    A job's first delivery (SQS's `ApproximateReceiveCount` is 1: no attempt came before) may start from the
    session its route handler read (`TurnJob.session_seen`); a redelivery reads it.
    A redelivered `get_state` answers again (a read), a redelivered purge deletes nothing more.
    """

    def run(body: str, lease_until: float | None, first_delivery: bool = False) -> dict[str, Any]:
        job = TurnJob.model_validate(json.loads(body))
        report = asyncio.run(
            process_job(job, default_worker_deps(), lease_until=lease_until, first_delivery=first_delivery)
        )
        publish_metrics(report, metrics)
        return {"status": report.outcome.status.value if report.outcome else "not_run"}

    return run


def default_job_runner(metrics: Any) -> JobRunner:
    """The job runner for this Lambda container, built once."""
    global _default_runner
    if _default_runner is None:
        _default_runner = make_job_runner(metrics)
    return _default_runner
