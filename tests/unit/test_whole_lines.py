"""The emulator's standard output: the functions' threads print, their lines never run into one another."""

from __future__ import annotations

import io
import threading

from local_server.emulator.whole_lines import WholeLines


def printed_at_once(stream: io.TextIOBase) -> list[str]:
    """Two threads `print` at the same moment: each writes its text, waits for the other, then its newline
    (as `print` does in two calls, with another thread free to write in between)."""
    both = threading.Barrier(2)

    def say(text: str) -> None:
        stream.write(text)
        both.wait()
        stream.write("\n")

    threads = [threading.Thread(target=say, args=(text,)) for text in ('{"_aws": 1}', '{"level": "INFO"}')]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(stream_value(stream).splitlines())


def stream_value(stream: io.TextIOBase) -> str:
    inner = stream._stream if isinstance(stream, WholeLines) else stream
    assert isinstance(inner, io.StringIO)
    return inner.getvalue()


def test_a_plain_stream_glues_two_threads_lines_together() -> None:
    """What the emulator's log showed (and `bench.run_aws` choked on) before its output was wrapped."""
    lines = printed_at_once(io.StringIO())
    assert "" in lines and any(line.count("{") == 2 for line in lines), lines


def test_each_thread_s_line_is_written_whole() -> None:
    assert printed_at_once(WholeLines(io.StringIO())) == ['{"_aws": 1}', '{"level": "INFO"}']


def test_a_flush_writes_an_unfinished_line_and_nothing_is_lost() -> None:
    inner = io.StringIO()
    stream = WholeLines(inner)
    stream.write("first\nsec")
    assert inner.getvalue() == "first\n"
    stream.write("ond\nthi")
    stream.flush()
    assert inner.getvalue() == "first\nsecond\nthi"
    print("rd", file=stream)
    assert inner.getvalue() == "first\nsecond\nthird\n"
