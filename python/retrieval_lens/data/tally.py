"""Bad-line accounting (src/core/data/badLines.ts): lines read, bad lines counted (the first 100 kept), and the
data.maxBadLineShare rule with the same message as the TypeScript reader."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import List, Tuple

from ..schemas import data_format_rules
from .formats import DataError, js_number_string

MAX_KEPT_BAD_LINES: int = data_format_rules()["maxKeptBadLines"]


@dataclass
class LineTally:
    lines_read: int = 0
    bad_count: int = 0
    bad_lines: List[Tuple[str, int, str]] = field(default_factory=list)  # (file, line, reason)

    def add_bad(self, file: str, line: int, reason: str) -> None:
        self.bad_count += 1
        if len(self.bad_lines) < MAX_KEPT_BAD_LINES:
            self.bad_lines.append((file, line, reason))

    def merge(self, other: "LineTally") -> None:
        self.lines_read += other.lines_read
        self.bad_count += other.bad_count
        self.bad_lines.extend(other.bad_lines[: MAX_KEPT_BAD_LINES - len(self.bad_lines)])

    def located(self) -> List[str]:
        """The kept bad lines as `file:line: reason`."""
        return [f"{f}:{n}: {r}" for f, n, r in self.bad_lines]


def to_fixed(x: float, digits: int) -> str:
    """JavaScript's Number.prototype.toFixed: the exact binary value rounded half up (Python's format rounds half even)."""
    return str(Decimal(x).quantize(Decimal(1).scaleb(-digits), ROUND_HALF_UP))


def _percent(share: float) -> str:
    """0.05 → "5", 0.025 → "2.5" (badLines.ts percent)."""
    return js_number_string(float(to_fixed(share * 100, 4)))


def check_bad_line_share(tally: LineTally, path: str, max_share: float, what: str = "lines", consequence: str = "are malformed") -> None:
    """A DataError when bad / read exceeds `max_share`, pointing at the first bad line (badLines.ts checkBadLineShare)."""
    if tally.lines_read == 0 or tally.bad_count / tally.lines_read <= max_share:
        return
    file, line, reason = tally.bad_lines[0]
    where = f"line {line}" if file == path else f"{file}:{line}"
    share = to_fixed(100 * tally.bad_count / tally.lines_read, 1)
    raise DataError(
        f"{tally.bad_count} of {tally.lines_read} {what} ({share}%) in {path} {consequence}, "
        f"more than data.maxBadLineShare {_percent(max_share)}%; first: {where}: {reason}",
        file,
        line,
    )
