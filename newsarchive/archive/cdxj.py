"""CDXJ indexes of the WARC files (``newsarchive cdxj``), for pywb and other replay tools.

Written with cdxj-indexer's library (the indexer pywb's own ``wb-manager`` uses), sorted by SURT key and
time as pywb's binary search needs, ``filename`` relative to the WARC directory. Only ``response`` and
``revisit`` records are listed: our ``metadata`` records share their page's URL and time, and a replay
tool must never answer a page request with the extracted-fields JSON.

pywb, with the WARCs and this index (see README): ``wb-manager init news``; copy or link the WARCs into
``collections/news/archive/``; ``newsarchive cdxj -o collections/news/indexes/index.cdxj``;
``wayback -b 127.0.0.1 -p 8080``; open ``http://127.0.0.1:8080/news/2024/https://...``.
"""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from newsarchive.archive.warc import WARC_SUFFIX

logger = logging.getLogger(__name__)

RECORDS = "response,revisit"


@dataclass(frozen=True)
class CdxjSummary:
    files: int
    lines: int


def closed_warcs(warc_dir: str | os.PathLike[str]) -> list[Path]:
    """The closed WARC files of a directory (``.open`` files are still being written), and those of its
    sub-directories (``imported/``: other tools' files, ``.warc`` too, linked or unpacked by ``import``)."""
    root = Path(warc_dir)
    top = [p for p in root.iterdir() if p.name.endswith(WARC_SUFFIX)]
    below = [p for p in root.glob("*/**/*") if p.name.endswith((WARC_SUFFIX, ".warc")) and p.is_file()]
    return sorted(top) + sorted(below)


def write_cdxj(warc_dir: str | os.PathLike[str], out: TextIO, files: Sequence[Path] | None = None) -> CdxjSummary:
    """Write one sorted CDXJ index of ``files`` (default: every closed WARC of ``warc_dir``) to ``out``."""
    from cdxj_indexer.main import CDXJIndexer  # type: ignore[import-untyped]

    # absolute, not resolved: a file linked under imported/ is named by its link, inside the WARC directory
    inputs = [str(Path(p).absolute()) for p in (files if files is not None else closed_warcs(warc_dir))]
    if not inputs:
        return CdxjSummary(0, 0)
    buffer = io.StringIO()
    indexer = CDXJIndexer(buffer, inputs, sort=True, records=RECORDS, dir_root=str(Path(warc_dir).absolute()))
    indexer.process_all()
    text = buffer.getvalue()
    out.write(text)
    lines = sum(1 for line in text.splitlines() if line and not line.startswith("!"))
    logger.info("indexed %d records of %d WARC files", lines, len(inputs))
    return CdxjSummary(len(inputs), lines)
