"""Small helpers shared by the benchmarks: percentiles and plain-text tables."""

from __future__ import annotations

import statistics
import sys
from collections.abc import Sequence

QUICK_FLAG = "--quick"


def quick(argv: Sequence[str] | None = None) -> bool:
    """True when the benchmark runs on tiny settings (`--quick`): a smoke run that checks it still works,
    whose figures mean nothing."""
    return QUICK_FLAG in (sys.argv[1:] if argv is None else argv)


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def median(values: Sequence[float]) -> float:
    """The median."""
    return statistics.median(values)


def table(title: str, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain-text table, columns aligned, with a title line."""
    cells = [[str(h) for h in headers], *[[_cell(v) for v in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [title, "-" * len(title)]
    for index, row in enumerate(cells):
        lines.append(
            "  ".join(
                value.rjust(width) if index else value.ljust(width)
                for value, width in zip(row, widths, strict=True)
            )
        )
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines) + "\n"


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)
