"""Recrawl policies: when is an article URL that is already archived fetched again?

``never`` (default): once archived, an article is not fetched again. ``always``: every crawl refetches.
An interval (``"6h"``, ``"1d"``): again once the last capture is that old. ``decay``: again at fixed ages
after the first capture (1 h, 6 h, 1 d, 3 d, 7 d), then never, which catches most corrections and updates
while they still happen; ``decay:2h,1d,7d`` sets the ages. Feeds, sitemaps and section pages are always
refetched. Refetches are conditional GETs (ETag / Last-Modified of the last capture).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from newsarchive.archive.index import PriorCapture

DEFAULT_DECAY = ("1h", "6h", "1d", "3d", "7d")
_INTERVAL = re.compile(r"(\d+)\s*([smhdw])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_interval(spec: str) -> timedelta:
    """``"45m"``, ``"6h"``, ``"1d"``, ``"1h30m"`` (units s, m, h, d, w) as a timedelta; ValueError otherwise."""
    text = spec.strip().lower()
    parts = _INTERVAL.findall(text)
    if not parts or _INTERVAL.sub("", text).strip():
        raise ValueError(f"{spec!r} is not an interval")
    seconds = sum(int(n) * _UNIT_SECONDS[unit] for n, unit in parts)
    if seconds <= 0:
        raise ValueError(f"{spec!r}: an interval must be longer than zero")
    return timedelta(seconds=seconds)


@dataclass(frozen=True)
class RecrawlPolicy:
    kind: str  # "never" | "always" | "interval" | "decay"
    interval: timedelta | None = None
    ages: tuple[timedelta, ...] = ()

    @classmethod
    def parse(cls, spec: str) -> RecrawlPolicy:
        """Raises ValueError with the reason for a spec it does not understand."""
        text = spec.strip().lower()
        if text in ("never", "always"):
            return cls(text)
        if text == "decay" or text.startswith("decay:"):
            parts = text.split(":", 1)[1].split(",") if ":" in text else list(DEFAULT_DECAY)
            ages = tuple(sorted(parse_interval(p) for p in parts if p.strip()))
            if not ages:
                raise ValueError(f"{spec!r}: decay needs at least one age")
            return cls("decay", ages=ages)
        try:
            return cls("interval", interval=parse_interval(text))
        except ValueError as exc:
            raise ValueError(f"{spec!r} is not a recrawl policy (never, always, an interval like 6h, "
                             f"decay or decay:1h,1d,7d)") from exc

    def due(self, prior: PriorCapture | None, now: datetime) -> bool:
        """Whether to fetch the URL again now, given its last capture (None: never archived)."""
        if prior is None or not prior.has_article:
            return True
        if self.kind == "always":
            return True
        if self.kind == "interval":
            assert self.interval is not None
            return now - prior.fetched_at >= self.interval
        if self.kind == "decay":
            checkpoints = (prior.first_fetched_at + age for age in self.ages)
            return any(prior.fetched_at < point <= now for point in checkpoints)
        return False
