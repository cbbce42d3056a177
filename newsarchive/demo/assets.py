"""Page requisites of the demo sites, made here byte for byte: PNG images, a favicon, a TrueType font,
stylesheets (with ``@import`` and ``url()``) and a lazy-loading script. No file is shipped or downloaded.

Every asset is deterministic (same bytes on every run), so ETags and payload digests repeat across crawls.
"""

from __future__ import annotations

import functools
import hashlib
import struct
import zlib
from collections.abc import Sequence

Color = tuple[int, int, int]
Polygon = Sequence[tuple[int, int]]

FONT_FAMILY = "DemoIcons"
# characters the demo font draws (as simple shapes), used by the stylesheets' ``::before`` markers
FONT_GLYPHS: dict[str, tuple[Polygon, ...]] = {
    "\u25a0": (((100, 0), (900, 0), (900, 800), (100, 800)),),  # ■ a square
    "\u25b2": (((100, 0), (900, 0), (500, 800)),),  # ▲ a triangle
    "\u2605": (((500, 800), (620, 480), (950, 480), (680, 280), (780, 0), (500, 180), (220, 0), (320, 280),
                (50, 480), (380, 480)),),  # ★ a star
}


# -- PNG and ICO ------------------------------------------------------------------------------------------

def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


@functools.lru_cache(maxsize=256)
def png(width: int, height: int, colors: tuple[Color, ...], *, stripe: int = 24) -> bytes:
    """An RGB PNG of diagonal stripes in ``colors`` (``stripe`` pixels wide): visible in a screenshot."""
    if width <= 0 or height <= 0 or not colors:
        raise ValueError("png: width, height and colors must be positive / non-empty")
    period = stripe * len(colors)
    line = b"".join(bytes(colors[(i // stripe) % len(colors)]) for i in range(width + period))
    rows = [b"\x00" + line[(y % period) * 3:(y % period + width) * 3] for y in range(height)]  # filter: none
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
            + _chunk(b"IEND", b""))


def ico(color: Color) -> bytes:
    """A 16x16 favicon.ico holding one PNG image (as browsers accept since IE 11)."""
    image = png(16, 16, (color, (255, 255, 255)), stripe=4)
    entry = struct.pack("<BBBBHHII", 16, 16, 0, 0, 1, 32, len(image), 6 + 16)
    return struct.pack("<HHH", 0, 1, 1) + entry + image


def colors_of(name: str) -> tuple[Color, Color]:
    """Two stable colours for ``name`` (a story slug, an outlet key)."""
    digest = hashlib.sha1(name.encode("utf-8")).digest()
    return (digest[0] // 2 + 64, digest[1] // 2 + 64, digest[2] // 2 + 64), (digest[3], digest[4], digest[5])


# -- a TrueType font -------------------------------------------------------------------------------------

def _glyph(contours: Sequence[Polygon]) -> bytes:
    points = [p for contour in contours for p in contour]
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    out = struct.pack(">hhhhh", len(contours), min(xs), min(ys), max(xs), max(ys))
    end, ends = -1, []
    for contour in contours:
        end += len(contour)
        ends.append(end)
    out += struct.pack(f">{len(ends)}H", *ends) + struct.pack(">H", 0)  # no instructions
    out += bytes([0x01]) * len(points)  # on-curve, 16-bit signed deltas
    last_x = last_y = 0
    dx, dy = [], []
    for x, y in points:
        dx.append(x - last_x)
        dy.append(y - last_y)
        last_x, last_y = x, y
    out += struct.pack(f">{len(dx)}h", *dx) + struct.pack(f">{len(dy)}h", *dy)
    return out + b"\x00" * (len(out) % 2)


def _cmap(codes: Sequence[int]) -> bytes:
    segments = [(c, c, (i + 1 - c) & 0xFFFF) for i, c in enumerate(codes)] + [(0xFFFF, 0xFFFF, 1)]
    count = len(segments)
    search = 2 * 2 ** (count.bit_length() - 1)
    selector = (search // 2).bit_length() - 1
    body = struct.pack(f">{count}H", *(s[1] for s in segments)) + b"\x00\x00"
    body += struct.pack(f">{count}H", *(s[0] for s in segments))
    body += struct.pack(f">{count}H", *(s[2] for s in segments)) + b"\x00\x00" * count
    sub = struct.pack(">HHHHHHH", 4, 14 + len(body), 0, 2 * count, search, selector, 2 * count - search) + body
    return struct.pack(">HHHHI", 0, 1, 3, 1, 12) + sub


def _name(family: str) -> bytes:
    strings = {1: family, 2: "Regular", 3: f"newsarchive-demo:{family}", 4: family, 6: family}
    records, data = b"", b""
    for name_id, text in strings.items():
        raw = text.encode("utf-16-be")
        records += struct.pack(">HHHHHH", 3, 1, 0x409, name_id, len(raw), len(data))
        data += raw
    return struct.pack(">HHH", 0, len(strings), 6 + 12 * len(strings)) + records + data


def _os2(first: int, last: int) -> bytes:
    return (struct.pack(">HhHHH", 4, 1000, 400, 5, 0) + struct.pack(">10h", *([650, 600, 0, 75] * 2), 50, 250)
            + struct.pack(">h", 0) + bytes(10) + struct.pack(">IIII", 1, 0, 0, 0) + b"NADM"
            + struct.pack(">HHH", 0x40, first, last) + struct.pack(">hhhHH", 800, -200, 0, 1000, 200)
            + struct.pack(">II", 1, 0) + struct.pack(">hhHHH", 500, 700, 0, 32, 1))


def _checksum(data: bytes) -> int:
    padded = data + b"\x00" * (-len(data) % 4)
    return sum(struct.unpack(f">{len(padded) // 4}I", padded)) & 0xFFFFFFFF


def truetype(family: str = FONT_FAMILY, glyphs: dict[str, tuple[Polygon, ...]] | None = None) -> bytes:
    """A valid TrueType font with one outline per character of ``glyphs`` (and an empty ``.notdef``)."""
    chars = sorted((glyphs or FONT_GLYPHS).items(), key=lambda kv: ord(kv[0]))
    outlines = [b""] + [_glyph(contours) for _, contours in chars]
    loca, offset = [], 0
    for outline in outlines:
        loca.append(offset // 2)
        offset += len(outline)
    loca.append(offset // 2)
    points = max(sum(len(c) for c in contours) for _, contours in chars)
    n, codes = len(outlines), [ord(c) for c, _ in chars]
    tables = {
        b"OS/2": _os2(codes[0], codes[-1]),
        b"cmap": _cmap(codes),
        b"glyf": b"".join(outlines),
        b"head": struct.pack(">IIIIHHqqhhhhHHhhh", 0x10000, 0x10000, 0, 0x5F0F3CF5, 0x000B, 1000, 0, 0,
                             0, 0, 1000, 800, 0, 8, 2, 0, 0),
        b"hhea": struct.pack(">Ihhh", 0x10000, 800, -200, 0) + struct.pack(">Hhhh", 1000, 0, 0, 950)
                 + struct.pack(">hhh", 1, 0, 0) + bytes(8) + struct.pack(">hH", 0, n),
        b"hmtx": b"".join(struct.pack(">Hh", 1000, 0) for _ in range(n)),
        b"loca": struct.pack(f">{len(loca)}H", *loca),
        b"maxp": struct.pack(">IHHHHHHHHHHHHHH", 0x10000, n, points, 1, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0),
        b"name": _name(family),
        b"post": struct.pack(">IIhhIIIII", 0x30000, 0, -100, 50, 0, 0, 0, 0, 0),
    }
    return _assemble(tables)


def _assemble(tables: dict[bytes, bytes]) -> bytes:
    count = len(tables)
    search = 16 * 2 ** (count.bit_length() - 1)
    header = struct.pack(">IHHHH", 0x10000, count, search, (search // 16).bit_length() - 1, count * 16 - search)
    offset = len(header) + 16 * count
    directory, body = b"", b""
    for tag in sorted(tables):
        data = tables[tag]
        directory += tag + struct.pack(">III", _checksum(data), offset + len(body), len(data))
        body += data + b"\x00" * (-len(data) % 4)
    font = bytearray(header + directory + body)
    head_at = _table_offset(directory, b"head")
    struct.pack_into(">I", font, head_at + 8, (0xB1B0AFBA - _checksum(bytes(font))) & 0xFFFFFFFF)
    return bytes(font)


def _table_offset(directory: bytes, tag: bytes) -> int:
    for i in range(0, len(directory), 16):
        if directory[i:i + 4] == tag:
            return int(struct.unpack(">I", directory[i + 8:i + 12])[0])
    raise KeyError(tag)


# -- stylesheets and script ------------------------------------------------------------------------------

FONTS_CSS = (f'@font-face{{font-family:"{FONT_FAMILY}";src:url("fonts/demo-icons.ttf") format("truetype");'
             "font-display:block}\n")

SITE_JS = ("// lazy images: the real address waits in data-src until the page has loaded\n"
           "document.querySelectorAll('img[data-src]').forEach(function (img) {\n"
           "  img.src = img.getAttribute('data-src');\n"
           "  img.removeAttribute('data-src');\n"
           "});\n")


def stylesheet(outlet_key: str) -> str:
    """The outlet's stylesheet: ``@import`` of the font face (relative URL), a tiled background image, the
    brand bar with a star drawn by the demo font, and the figure images."""
    (r, g, b), _ = colors_of(outlet_key)
    return (
        '@import url("fonts.css");\n'
        "/* site stylesheet of the demo outlet; url()s below are requisites too */\n"
        "body{background:#f6f3ec url('paper.png') repeat;color:#1d1d1f;font-family:sans-serif}\n"
        f".brandbar{{height:32px;background:rgb({r},{g},{b});display:flex;align-items:center;padding:0 12px}}\n"
        f'.brandbar::before{{content:"\\2605\\25A0\\25B2";font-family:"{FONT_FAMILY}";font-size:22px;'
        "color:#fff;margin-right:10px}\n"
        "figure.media img{display:block;max-width:100%;height:auto}\n"
        f"h1{{border-left:6px solid rgb({r},{g},{b});padding-left:8px}}\n"
    )
