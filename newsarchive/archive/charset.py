"""Decoding HTML bodies whose declared charset may be wrong.

Order: BOM, then the first declared charset (the HTTP header's, else the document's ``<meta charset>``),
checked against the bytes:

* bytes that are valid UTF-8 (with some non-ASCII) declared as any other charset are UTF-8: a legacy
  single-byte text almost never forms valid UTF-8 sequences by chance, while UTF-8 pages declared
  ISO-8859-1/windows-1252 (stored as "ZÃ¼rich") are a very common server misconfiguration;
* a declared charset that does not decode (latin-1 bytes declared UTF-8) yields to charset_normalizer's guess;
* a declared single-byte charset that decodes but reads as mojibake (charset_normalizer's mess ratio of the
  page's text, e.g. windows-1251 Russian declared KOI8-R) yields to the common single-byte charset that reads
  cleanest, when that one reads clean.

Not detected: charsets that differ in a few letters only and read clean either way (ISO-8859-9 Turkish
declared ISO-8859-1 gives "Ýstanbul"; ISO-8859-2 against windows-1250). Undecodable bytes become U+FFFD
rather than an error: one bad page never stops a crawl.
"""

from __future__ import annotations

import codecs
import functools
import logging
import re

logger = logging.getLogger(__name__)

_META = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_HEADER = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_.:-]+)", re.I)
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
_NON_TEXT = re.compile(r"<(script|style)\b.*?</\1\s*>|<[^>]*>|&[#\w]+;", re.I | re.S)
GUESS_BYTES = 200_000  # charset_normalizer looks at this much of a body
MESS_TEXT = 20_000  # characters of a page's text scored for mojibake
MESSY = 0.1  # mess ratio from which a declared decoding is doubted (clean text in the right charset: ~0)
# tried, in this order (Windows codepages first: more common on the web), when a declared one reads as mojibake
SINGLE_BYTE_CANDIDATES = tuple(codecs.lookup(n).name for n in (
    "cp1252", "cp1250", "cp1251", "cp1253", "cp1254", "cp1257", "iso-8859-15", "iso-8859-2", "iso-8859-5",
    "iso-8859-7", "iso-8859-9", "iso-8859-13", "koi8-r", "koi8-u", "cp866", "mac-cyrillic"))


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
    declared = declared_charsets(body, content_type)
    if not declared:
        try:
            return body.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            return _guess(body)
    name = declared[0]
    if name != "utf-8" and not name.startswith(("utf-16", "utf-32")) and _is_utf8(body):
        logger.info("declared charset %s, but the bytes are UTF-8: decoding as UTF-8", name)
        return body.decode("utf-8"), "utf-8"
    try:
        text = body.decode(name)
    except UnicodeDecodeError:
        logger.info("declared charset %s does not fit the bytes; guessing", name)
        return _guess(body)
    if _single_byte(name) and (better := _cleaner_guess(body, text, name)) is not None:
        return better
    return text, name


def _is_utf8(body: bytes) -> bool:
    """Valid UTF-8 with at least one non-ASCII character."""
    if body.isascii():
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@functools.cache
def _single_byte(name: str) -> bool:
    """Every byte is one character (any byte sequence decodes, so a wrong one shows only as mojibake)."""
    return name != "utf-8" and len(bytes(range(128, 256)).decode(name, "replace")) == 128


def _guess(body: bytes) -> tuple[str, str]:
    from charset_normalizer import from_bytes

    best = from_bytes(body[:GUESS_BYTES], preemptive_behaviour=False).best()  # not the (wrong) <meta>
    name = best.encoding if best is not None else "cp1252"
    return body.decode(name, "replace"), name


def mess(text: str) -> float:
    """charset_normalizer's mess ratio of the text of an HTML page (tags, scripts and entities left out)."""
    from charset_normalizer.md import mess_ratio

    return float(mess_ratio(_NON_TEXT.sub(" ", text[:MESS_TEXT * 4])[:MESS_TEXT], maximum_threshold=1.0))


def _cleaner_guess(body: bytes, text: str, name: str) -> tuple[str, str] | None:
    """The cleanest-reading single-byte charset when the declared one reads as mojibake (and it reads clean)."""
    declared_mess = mess(text)
    if declared_mess < MESSY:
        return None
    best: tuple[float, str, str] | None = None
    for candidate in SINGLE_BYTE_CANDIDATES:
        if candidate == name:
            continue
        decoded = body.decode(candidate, "replace")
        score = mess(decoded)
        if best is None or score < best[0]:
            best = (score, decoded, candidate)
    if best is None or best[0] >= min(MESSY, declared_mess / 2):
        return None
    logger.info("declared charset %s reads as mojibake (mess %.2f); %s reads clean (%.2f)", name, declared_mess,
                best[2], best[0])
    return best[1], best[2]
