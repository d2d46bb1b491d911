"""Standard output shared by the emulated functions' threads, written a whole line at a time.

In Lambda each invocation's output is its own log stream; here every function runs in one process, and
`print` writes a text and its newline in two calls (Powertools Metrics prints each EMF document so): a line
another thread writes in between lands inside it (`{"_aws": …}{"level": …}` on one line, the newline after).
`WholeLines` holds each thread's text until its line ends and writes whole lines under one lock.
"""

from __future__ import annotations

import io
import threading
from typing import TextIO


class WholeLines(io.TextIOBase):
    """A text stream over `stream` that never lets two threads' lines run into one another."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._lock = threading.Lock()
        self._pending = threading.local()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self._stream.encoding

    def isatty(self) -> bool:
        return self._stream.isatty()

    def fileno(self) -> int:
        return self._stream.fileno()

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        """Hold `text` until this thread's line ends; then write its whole lines at once."""
        pending: str = getattr(self._pending, "text", "") + text
        ended, newline, rest = pending.rpartition("\n")
        self._pending.text = rest
        if newline:
            with self._lock:
                self._stream.write(ended + newline)
                self._stream.flush()
        return len(text)

    def flush(self) -> None:
        """Write what this thread holds, even without its newline (nothing is kept back on a flush)."""
        pending: str = getattr(self._pending, "text", "")
        self._pending.text = ""
        with self._lock:
            if pending:
                self._stream.write(pending)
            self._stream.flush()
