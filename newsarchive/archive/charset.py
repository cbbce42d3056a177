"""Decoding HTML bodies whose declared charset may be wrong.

Order: BOM, the HTTP header's charset, the document's ``<meta charset>``; a declared charset that does not
decode cleanly (latin-1 bytes declared UTF-8 is the common case) yields to charset_normalizer's guess.
Undecodable bytes become U+FFFD rather than an error: one bad page never stops a crawl.
"""

from __future__ import annotations

import codecs
import logging
import re

logger = logging.getLogger(__name__)

_META = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_HEADER = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_.:-]+)", re.I)
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def declared_charsets(body: bytes, content_type: str | None) -> list[str]:
    found = []
    if content_type and (header := _HEADER.search(content_type)):
        found.append(header.group(1))
    if meta := _META.search(body[:4096]):
        found.append(meta.group(1).decode("ascii", "replace"))
    return [c for c in (_codec(name) for name in found) if c]


def decode_html(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """(text, encoding used). Never raises."""
    for bom, name in _BOMS:
        if body.startswith(bom):
            return body[len(bom):].decode(name, "replace"), name
    for name in declared_charsets(body, content_type):
        try:
            return body.decode(name), name
        except UnicodeDecodeError:
            logger.info("declared charset %s does not fit the bytes; guessing", name)
            break
    else:
        try:
            return body.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            pass
    from charset_normalizer import from_bytes

    best = from_bytes(body[:200_000]).best()
    name = best.encoding if best is not None else "cp1252"
    return body.decode(name, "replace"), name
