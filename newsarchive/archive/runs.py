"""Run history and site health: crawl runs (``crawl_runs``) plus the scheduler's own bookkeeping.

``crawl_runs`` is written by the crawl itself (one row per crawl, with pages, articles and errors).
``schedule_runs`` is written by ``newsarchive schedule``: one row per crawl subprocess it launched, with
when it was due, how it ended (exit status, stopped, killed) and the crawl run it produced. A scheduled
crawl that died before it could open the index has a ``schedule_runs`` row and no crawl run; the history
shows both kinds.

Health: a site whose last ``window`` finished runs found no *new* article (an article whose canonical URL
was not archived as an article before) is *stale*: its feeds may have moved or the site changed its layout.

Example::

    index = ArchiveIndex("sqlite:///newsarchive-data/index.sqlite")
    for record in run_history(index, site="demo-courier", limit=10):
        print(record.started_at, record.status, record.pages, record.new_articles)
    stale = [h.site for h in site_health(index) if h.stale]
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from newsarchive.archive.index import ArchiveIndex
from newsarchive.archive.models import SCHEDULE_RUNNING, Article, Capture, CrawlRun, ScheduleRun, utcnow
from newsarchive.archive.owner import OWNER_KEY, owner_alive

logger = logging.getLogger(__name__)

DEFAULT_HEALTH_WINDOW = 3

# schedule_runs.status values
RUNNING = SCHEDULE_RUNNING
OK = "ok"
FAILED = "failed"      # the crawl exited non-zero on its own
STOPPED = "stopped"    # stopped by the scheduler's shutdown, exited after SIGINT
KILLED = "killed"      # did not stop within the grace period and was killed
ERROR = "error"        # could not be started at all (e.g. executable missing)
ENDED = (OK, FAILED, STOPPED, KILLED, ERROR)
# crawl_runs.status of a crawl whose process died without finishing its run (SIGKILL, power loss)
CRAWL_INTERRUPTED = "interrupted"
# not evidence for health: the run was cut short (on purpose, or its process was killed)
INTERRUPTED = (STOPPED, KILLED, "shutdown", CRAWL_INTERRUPTED)


@dataclass(frozen=True)
class RunRecord:
    """One line of the run history: a crawl run, with its scheduling if the scheduler launched it."""

    site: str
    started_at: datetime
    finished_at: datetime | None
    status: str
    pages: int
    articles: int
    new_articles: int
    errors: int
    crawl_run_id: int | None
    schedule_run_id: int | None
    trigger: str  # scheduled | once | manual

    @property
    def ended(self) -> bool:
        return self.finished_at is not None and self.status != RUNNING


@dataclass(frozen=True)
class SiteHealth:
    site: str
    window: int
    runs_checked: int
    new_articles: int
    last_run: datetime | None

    @property
    def stale(self) -> bool:
        """The last ``window`` ended runs (and at least ``window`` of them) found no new article."""
        return self.runs_checked >= self.window and self.new_articles == 0


# -- scheduler bookkeeping ----------------------------------------------------------------------------------
def start_schedule_run(index: ArchiveIndex, *, job_id: str, site: str, trigger: str,
                       scheduled_for: datetime | None) -> int:
    with index.session() as s:
        row = ScheduleRun(job_id=job_id, site=site, trigger=trigger, scheduled_for=scheduled_for,
                          started_at=utcnow(), status=RUNNING)
        s.add(row)
        s.flush()
        return row.id


def update_schedule_run(index: ArchiveIndex, run_id: int, **values: object) -> None:
    """Set columns of one schedule run (``pid``, ``log_path``, ``status``, ``exit_code``, ...)."""
    with index.session() as s:
        row = s.get(ScheduleRun, run_id)
        if row is None:
            raise KeyError(f"schedule run {run_id} does not exist")
        for key, value in values.items():
            setattr(row, key, value)


def newest_crawl_run_id(index: ArchiveIndex) -> int:
    """The highest crawl run id so far (0 when there is none): runs created later have larger ids."""
    with index.sessions() as s:
        return int(s.scalar(select(func.max(CrawlRun.id))) or 0)


def crawl_run_after(index: ArchiveIndex, site: str, after_id: int, schedule_run_id: int) -> int | None:
    """The crawl run of ``site`` created after ``after_id``; one tagged with ``schedule_run_id`` wins."""
    with index.sessions() as s:
        rows = list(s.execute(
            select(CrawlRun.id, CrawlRun.args).where(CrawlRun.id > after_id, CrawlRun.site == site)
            .order_by(CrawlRun.id)
        ))
    for run_id, args in rows:
        if isinstance(args, dict) and str(args.get("schedule_run_id", "")) == str(schedule_run_id):
            return int(run_id)
    return int(rows[0][0]) if rows else None


def last_started(index: ArchiveIndex, site: str) -> datetime | None:
    """When the scheduler last started a crawl of ``site`` (None: never)."""
    with index.sessions() as s:
        return s.scalar(select(func.max(ScheduleRun.started_at)).where(ScheduleRun.site == site))


@dataclass(frozen=True)
class RunningRun:
    id: int
    site: str
    pid: int | None
    started_at: datetime


def running(index: ArchiveIndex, site: str | None = None) -> list[RunningRun]:
    """Schedule runs still marked ``running`` (by this or another scheduler process)."""
    stmt = select(ScheduleRun).where(ScheduleRun.status == RUNNING)
    if site is not None:
        stmt = stmt.where(ScheduleRun.site == site)
    with index.sessions() as s:
        return [RunningRun(r.id, r.site, r.pid, r.started_at) for r in s.scalars(stmt.order_by(ScheduleRun.id))]


def mark_abandoned(index: ArchiveIndex, run_ids: Iterable[int],
                   detail: str = "the scheduler ended without recording the outcome") -> None:
    """Mark runs left ``running`` by a scheduler that died (kill -9, power loss) as failed."""
    with index.session() as s:
        for row in s.scalars(select(ScheduleRun).where(ScheduleRun.id.in_(list(run_ids)))):
            row.status, row.finished_at, row.detail = FAILED, utcnow(), detail


# -- crawl runs whose process died -------------------------------------------------------------------------
def mark_interrupted(index: ArchiveIndex, *, alive: Callable[[object], bool | None] = owner_alive) -> list[int]:
    """Mark crawl runs still ``running`` whose owner process is gone as ``interrupted``; returns their ids.

    Called when a crawl or the scheduler starts, and when local workers end. A run is ended at its last
    capture (or its start when it has none) with the pages and articles it got; a run owned by a process on
    another host is left alone (``alive`` answers None), as is one whose process still runs. A run without
    an owner record comes from a version that did not write one and counts as gone.
    """
    with index.sessions() as s:
        rows = list(s.execute(select(CrawlRun.id, CrawlRun.stats).where(CrawlRun.status == RUNNING)))
    dead = [int(run_id) for run_id, stats in rows if alive((stats or {}).get(OWNER_KEY)) is False]
    for run_id in dead:
        _end_interrupted(index, run_id)
    if dead:
        logger.warning("marked %d crawl run(s) whose process ended without finishing them as interrupted: %s",
                       len(dead), ", ".join(map(str, dead)))
    return dead


def _end_interrupted(index: ArchiveIndex, run_id: int) -> None:
    with index.session() as s:
        run = s.get(CrawlRun, run_id)
        if run is None or run.status != RUNNING:
            return  # finished meanwhile
        owner = (run.stats or {}).get(OWNER_KEY)
        last = s.scalar(select(func.max(Capture.fetched_at)).where(Capture.run_id == run_id))
        run.status, run.finished_at = CRAWL_INTERRUPTED, last or run.started_at
        run.pages = s.scalar(select(func.count()).where(Capture.run_id == run_id)) or 0
        run.articles = s.scalar(select(func.count()).select_from(Article).join(Capture)
                                .where(Capture.run_id == run_id, Article.status == "ok")) or 0
        run.stats = {"newsarchive/interrupted": "its process ended without finishing the run", OWNER_KEY: owner}


# -- history and health -------------------------------------------------------------------------------------
def run_history(index: ArchiveIndex, *, site: str | None = None, limit: int = 20) -> list[RunRecord]:
    """Newest first: crawl runs and scheduled launches that produced no crawl run."""
    with index.sessions() as s:
        records = _crawl_records(s, site, limit) + _orphan_records(s, site, limit)
    records.sort(key=lambda r: r.started_at, reverse=True)
    return records[:limit]


def _crawl_records(s: Session, site: str | None, limit: int) -> list[RunRecord]:
    stmt = select(CrawlRun, ScheduleRun).outerjoin(ScheduleRun, ScheduleRun.crawl_run_id == CrawlRun.id)
    if site:
        stmt = stmt.where(CrawlRun.site == site)
    rows = list(s.execute(stmt.order_by(CrawlRun.started_at.desc(), CrawlRun.id.desc()).limit(limit)))
    fresh = new_article_counts(s, [run.id for run, _ in rows])
    return [
        RunRecord(
            site=run.site or ",".join(map(str, (run.args or {}).get("sites", []))) or "-",
            started_at=run.started_at, finished_at=run.finished_at,
            status=_status(run, sched), pages=run.pages, articles=run.articles,
            new_articles=fresh.get(run.id, 0), errors=run.errors, crawl_run_id=run.id,
            schedule_run_id=sched.id if sched else None, trigger=sched.trigger if sched else "manual",
        )
        for run, sched in rows
    ]


def _status(run: CrawlRun, sched: ScheduleRun | None) -> str:
    """The crawl's own status, unless the scheduler knows better (stopped, killed, failed exit)."""
    if sched is not None and sched.status in (STOPPED, KILLED):
        return sched.status
    if sched is not None and sched.status == FAILED and run.status in ("finished", RUNNING):
        return FAILED
    if run.status == RUNNING and sched is not None and sched.status in ENDED:
        return sched.status  # the crawl died before it could finish its own row
    return run.status


def _orphan_records(s: Session, site: str | None, limit: int) -> list[RunRecord]:
    stmt = select(ScheduleRun).where(ScheduleRun.crawl_run_id.is_(None))
    if site:
        stmt = stmt.where(ScheduleRun.site == site)
    rows = s.scalars(stmt.order_by(ScheduleRun.started_at.desc()).limit(limit))
    return [
        RunRecord(site=row.site, started_at=row.started_at, finished_at=row.finished_at, status=row.status,
                  pages=0, articles=0, new_articles=0, errors=0, crawl_run_id=None,
                  schedule_run_id=row.id, trigger=row.trigger)
        for row in rows
    ]


def new_article_counts(s: Session, run_ids: Iterable[int]) -> dict[int, int]:
    """Per crawl run: articles whose canonical URL had no earlier successfully extracted article."""
    ids = list(run_ids)
    if not ids:
        return {}
    earlier = aliased(Article)
    seen_before = (
        select(earlier.id)
        .where(earlier.canonical_url == Article.canonical_url, earlier.status == "ok", earlier.id < Article.id)
        .exists()
    )
    stmt = (
        select(Capture.run_id, func.count())
        .select_from(Article).join(Capture, Capture.id == Article.capture_id)
        .where(Capture.run_id.in_(ids), Article.status == "ok", ~seen_before)
        .group_by(Capture.run_id)
    )
    return {int(run_id): int(n) for run_id, n in s.execute(stmt) if run_id is not None}


def site_health(index: ArchiveIndex, sites: Iterable[str] | None = None, *,
                window: int = DEFAULT_HEALTH_WINDOW) -> list[SiteHealth]:
    """Health of each site (those given, or every site with a run), from its last ``window`` ended runs
    (runs stopped on purpose do not count)."""
    if window < 1:
        raise ValueError(f"health window must be >= 1, not {window}")
    names = list(sites) if sites is not None else _sites_with_runs(index)
    out = []
    for name in names:
        history = run_history(index, site=name, limit=window + 20)
        ended = [r for r in history if r.ended and r.status not in INTERRUPTED][:window]
        out.append(SiteHealth(site=name, window=window, runs_checked=len(ended),
                              new_articles=sum(r.new_articles for r in ended),
                              last_run=ended[0].started_at if ended else None))
    return out


def _sites_with_runs(index: ArchiveIndex) -> list[str]:
    with index.sessions() as s:
        crawled = set(s.scalars(select(CrawlRun.site).where(CrawlRun.site.is_not(None)).distinct()))
        scheduled = set(s.scalars(select(ScheduleRun.site).distinct()))
    return sorted(str(x) for x in crawled | scheduled)


# -- text table ---------------------------------------------------------------------------------------------
_COLUMNS = ("RUN", "SITE", "STARTED (UTC)", "TOOK", "STATUS", "PAGES", "ARTICLES", "NEW", "ERRORS", "VIA", "HEALTH")


def history_table(records: list[RunRecord], health: Iterable[SiteHealth]) -> list[str]:
    """Aligned text lines: a header, one line per run (newest first), stale sites flagged on their newest run."""
    stale = {h.site: h for h in health if h.stale}
    flagged: set[str] = set()
    rows = [_COLUMNS]
    for r in records:
        note = "stale" if r.site in stale and r.site not in flagged else ""
        flagged.add(r.site)
        run = str(r.crawl_run_id) if r.crawl_run_id is not None else f"s{r.schedule_run_id}"
        rows.append((run, r.site, f"{r.started_at:%Y-%m-%d %H:%M:%S}", _took(r), r.status, str(r.pages),
                     str(r.articles), str(r.new_articles), str(r.errors), r.trigger, note))
    widths = [max(len(row[i]) for row in rows) for i in range(len(_COLUMNS))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    for h in stale.values():
        lines.append(f"stale: {h.site}: its last {h.runs_checked} runs found no new articles")
    return lines


def _took(r: RunRecord) -> str:
    if r.finished_at is None:
        return "running"
    seconds = max(0, int((r.finished_at - r.started_at).total_seconds()))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}h{rest // 60:02d}m" if hours else f"{rest // 60}m{rest % 60:02d}s"
