"""Where an archive lives: one home directory with ``warcs/`` and (by default) ``index.sqlite``.

``NEWSARCHIVE_HOME`` and ``NEWSARCHIVE_INDEX_URL`` override the defaults; an explicit argument wins over both.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_HOME = "newsarchive-data"


@dataclass(frozen=True)
class ArchiveHome:
    root: Path
    index_url: str

    @property
    def warc_dir(self) -> Path:
        return self.root / "warcs"

    @classmethod
    def resolve(cls, home: str | os.PathLike[str] | None = None, index_url: str | None = None) -> ArchiveHome:
        root = Path(home or os.environ.get("NEWSARCHIVE_HOME") or DEFAULT_HOME).expanduser().resolve()
        url = index_url or os.environ.get("NEWSARCHIVE_INDEX_URL") or f"sqlite:///{root / 'index.sqlite'}"
        return cls(root, url)

    def ensure(self) -> ArchiveHome:
        self.warc_dir.mkdir(parents=True, exist_ok=True)
        return self
