"""A few conversations of the issue-20 mix under a high fault rate (the full run is `bench/faults.py`)."""

from __future__ import annotations

import pytest

from bench.faults import run

pytestmark = pytest.mark.integration


def test_a_conversation_mix_under_faults_keeps_every_promise(aws_env: None) -> None:
    tally = run(conversations=3, rate=0.15, seed=11)
    assert tally.conversations == 3 and tally.faults > 10, tally  # faults were really injected
    assert (
        tally.double_executions,
        tally.rejected_executions,
        tally.stuck_threads,
        tally.extra_terminal,
        tally.reused_seqs,
        tally.non_protocol,
        tally.no_outcome,
    ) == (0, 0, 0, 0, 0, 0, 0), tally.notes
