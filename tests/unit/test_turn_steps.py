"""`bench.turn_steps` reads the worker's metrics from the emulator's log, where threads' lines may collide."""

from __future__ import annotations

import json

import pytest

from bench.turn_steps import worker_metrics

METRICS = {"_aws": {"Timestamp": 1, "CloudWatchMetrics": []}, "SetupLatency": [0.1], "RunSeconds": [0.2]}


def test_metrics_run_into_by_another_line_are_still_read() -> None:
    """The emulator's threads write at once: a route handler's log line ended up right after the metrics
    document, on the same line (`make bench` died there with `JSONDecodeError: Extra data`)."""
    other = json.dumps({"level": "INFO", "message": "queued a turn"})
    log = "\n".join([other, json.dumps(METRICS) + other, "REPORT RequestId: x"])
    assert worker_metrics(log)["SetupLatency"] == [0.1]


def test_metrics_after_another_line_s_text_are_read() -> None:
    log = "START RequestId: x " + json.dumps(METRICS)
    assert worker_metrics(log)["RunSeconds"] == [0.2]


def test_a_log_without_them_says_so() -> None:
    with pytest.raises(ValueError, match="no worker metrics"):
        worker_metrics('{"_aws": {"Timestamp": 1}, "FramesSent": [3]}\n{"_aws": broken')
