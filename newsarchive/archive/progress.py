"""Progress callbacks of long library calls (verify, reindex, re-extraction ...).

A long call takes ``progress: ProgressCallback | None`` and calls it with ``(done, total)`` as it goes, in
the unit its docstring names (bytes of WARC files, articles). The callback decides what to show and how
often (the CLI's :mod:`newsarchive.cli.progress` draws a bar on a terminal, log lines otherwise), so it may be
called once per record: it must be cheap.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

ProgressCallback = Callable[[int, int], None]


class FileBytes:
    """Bytes done over a list of files: the files finished so far plus the position in the current one."""

    def __init__(self, paths: Iterable[Path], progress: ProgressCallback | None):
        self.paths = list(paths)
        self.progress = progress
        self.total = sum(_size(p) for p in self.paths)
        self.before = 0  # bytes of the files already read

    def at(self, offset: int) -> None:
        """The current file has been read up to ``offset``."""
        if self.progress is not None:
            self.progress(min(self.before + offset, self.total), self.total)

    def finished(self, path: Path) -> None:
        self.before += _size(path)
        self.at(0)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:  # gone or unreadable: the reader reports it; it just adds nothing here
        return 0
