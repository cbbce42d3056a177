"""Progress of long commands on stderr: a tqdm bar on a terminal, otherwise a log line every few seconds.

One helper for every long command (``verify``, ``reindex``, ``reextract``, ``cdxj`` ...): it is the
``(done, total)`` callback the library calls take (:data:`newsarchive.archive.progress.ProgressCallback`),
with counts, rate and ETA either way::

    with Progress("verify", unit="B") as progress:
        report = verify_archive(index, warc_dir, progress=progress)

Log lines (when stderr is not a terminal, e.g. under cron or in CI logs) look like
``2026-01-05 10:00:10 verify: 1.2 GB of 3.4 GB (35%), 118.0 MB/s, ETA 19s``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import IO, Any

DEFAULT_INTERVAL = 10.0  # seconds between log lines when not on a terminal


def _number(value: float, unit: str) -> str:
    if unit != "B":
        return f"{value:,.0f} {unit}"
    for prefix in ("", "k", "M", "G", "T"):
        if abs(value) < 1000 or prefix == "T":
            return f"{value:.0f} B" if not prefix else f"{value:.1f} {prefix}B"
        value /= 1000
    raise AssertionError("unreachable")


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def progress_line(label: str, done: int, total: int, elapsed: float, unit: str) -> str:
    """``label: done of total (pct%), rate, ETA`` (without total, percentage or ETA when total is 0)."""
    rate = done / elapsed if elapsed > 0 else 0.0
    line = f"{label}: {_number(done, unit)}"
    if total > 0:
        line += f" of {_number(total, unit)} ({100 * done / total:.0f}%)"
    line += f", {_number(rate, unit)}/s"
    if total > 0 and rate > 0 and done < total:
        line += f", ETA {_duration((total - done) / rate)}"
    return line


class Progress:
    """A ``(done, total)`` callback drawing a bar on a terminal, or writing a line every ``interval`` seconds.

    ``tty=None`` asks the stream. The last state is always written when the progress closes, so a log shows
    where a long command ended.
    """

    def __init__(self, label: str, *, unit: str = "items", stream: IO[str] | None = None, tty: bool | None = None,
                 interval: float = DEFAULT_INTERVAL, clock: Callable[[], float] = time.monotonic):
        self.label, self.unit, self.interval, self.clock = label, unit, interval, clock
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)()) if tty is None else tty
        self.started = clock()
        self.last_line = self.started
        self.done = self.total = 0
        self.bar: Any = None
        if self.tty:
            from tqdm import tqdm

            self.bar = tqdm(total=None, desc=label, unit=unit if unit != "items" else "it",
                            unit_scale=unit == "B", unit_divisor=1000, file=self.stream, dynamic_ncols=True)

    def __call__(self, done: int, total: int) -> None:
        self.done, self.total = done, total
        if self.bar is not None:
            if total and self.bar.total != total:
                self.bar.total = total
            self.bar.update(done - self.bar.n)
            return
        now = self.clock()
        if now - self.last_line >= self.interval:
            self.last_line = now
            self._write(now)

    def _write(self, now: float) -> None:
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
        line = progress_line(self.label, self.done, self.total, now - self.started, self.unit)
        print(f"{stamp} {line}", file=self.stream, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        elif self.done or self.total:
            self._write(self.clock())

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
