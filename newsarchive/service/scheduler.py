"""Scheduled crawling: run each site of sites.toml on its own schedule, each crawl in its own subprocess.

Process model (kept deliberately simple):

* One scheduler process (``newsarchive schedule``) with an APScheduler ``BackgroundScheduler``. Its jobs
  live in a ``SQLAlchemyJobStore`` in the index database (table ``newsarchive_schedule_jobs``), so every
  site's trigger and next run time survive restarts. One job per site, id ``crawl:<site>``.
* A job does not crawl in the scheduler process (Twisted's reactor cannot restart); it launches
  ``python -m newsarchive crawl --sites FILE SITE --home HOME`` (the index URL goes in the environment,
  ``NEWSARCHIVE_INDEX_URL``, so a password never shows in ``ps``), waits for it, and records the outcome in
  ``schedule_runs`` (see :mod:`newsarchive.archive.runs`), linked to the ``crawl_runs`` row the crawl wrote.
  The crawl's output goes to ``HOME/logs/schedule-<site>-<id>.log``.

Overlap and politeness:

* No overlapping runs of one site: ``max_instances=1`` (a run still going when the next is due makes
  APScheduler skip that firing), ``coalesce=True`` (runs missed while the scheduler was down or busy are
  run once, not once per missed time), ``misfire_grace_time`` (default: no limit, a late run still runs).
  Across processes (a ``--once`` from cron while another is still crawling), a site with a ``running``
  schedule row whose process is alive is skipped.
* A global cap on concurrent crawls: a semaphore of ``max_concurrent`` slots. The thread pool has one
  thread per site, so a job waiting for its host never blocks a job for another host.
* Per-host politeness across overlapping jobs: Scrapy's per-domain delay and concurrency only hold within
  one crawl process. Two sites that share a host name (``SiteConfig.domains``, e.g. two sections of one
  paper on the same server) would be crawled by two processes at once, doubling the load on the host.
  So a job first takes a lock for each of its hosts (in sorted order, so two jobs never wait for each
  other's locks), then a slot: crawls of one host are serialized, other hosts go on in parallel.

Stopping (SIGTERM/SIGINT): scheduling stops, every running crawl gets one SIGINT (Scrapy then closes
the spider gracefully; the WARC writer closes and renames its files on ``spider_closed``), the scheduler
waits ``stop_timeout`` seconds, then kills the crawl's process group (the crawl's next run recovers
a ``.warc.gz.open`` file it left). Crawls run in their own session, so a Ctrl-C in the terminal reaches only
the scheduler, which sends the single SIGINT itself. Each outcome (``stopped``/``killed``) is recorded.

``--once`` (for cron/systemd timers): run the sites that are due (next run time reached, or never run by
the scheduler), set their next run times, exit; non-zero when any crawl failed. It leaves the jobs of other
sites alone; a long-running ``schedule`` makes its job store match its sites. Run one long-running
scheduler per index database (APScheduler 3 cannot share a job store between schedulers).

Example::

    scheduler = CrawlScheduler(load_sites("sites.toml"), "sites.toml", ArchiveHome.resolve())
    outcomes = scheduler.run_due()          # or scheduler.run_forever() until stop() / a signal
"""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor as FuturesPool
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED, EVENT_JOB_SUBMITTED, JobEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_RUNNING
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.exc import SQLAlchemyError

from newsarchive.archive import runs
from newsarchive.archive.home import ArchiveHome
from newsarchive.archive.index import ArchiveIndex, IndexUnavailable
from newsarchive.archive.models import utcnow
from newsarchive.archive.owner import pid_alive
from newsarchive.crawler.recrawl import parse_interval
from newsarchive.crawler.sites import SiteConfig, SitesConfigError, check_schedule

logger = logging.getLogger(__name__)

JOBS_TABLE = "newsarchive_schedule_jobs"
JOB_PREFIX = "crawl:"
DEFAULT_SCHEDULE = "1h"
SKIPPED = "skipped"  # outcome only: not launched (stopping, or the site is being crawled elsewhere)
BAD_OUTCOMES = (runs.FAILED, runs.KILLED, runs.ERROR, runs.STOPPED)


class ScheduleError(ValueError):
    """The schedule cannot be set up (bad option value); the message names the option."""


@dataclass(frozen=True)
class ScheduleOptions:
    max_concurrent: int = 2
    misfire_grace: int | None = None  # seconds a run may start late; None: no limit
    stop_timeout: float = 60.0  # seconds between SIGINT and kill on shutdown
    default_schedule: str = DEFAULT_SCHEDULE  # for sites without ``schedule`` (and no [defaults] one)
    health_window: int = runs.DEFAULT_HEALTH_WINDOW
    timezone: str | None = None  # cron fields are read in this zone; None: the local zone


@dataclass(frozen=True)
class CrawlJob:
    """What a crawl subprocess is launched for."""

    site: str
    sites_file: Path
    home: ArchiveHome
    schedule_run_id: int


@dataclass(frozen=True)
class RunOutcome:
    site: str
    status: str  # runs.OK, FAILED, STOPPED, KILLED, ERROR, or SKIPPED
    exit_code: int | None = None
    schedule_run_id: int | None = None
    crawl_run_id: int | None = None
    detail: str = ""

    @property
    def failed(self) -> bool:
        return self.status in BAD_OUTCOMES


@dataclass(frozen=True)
class JobPlan:
    site: str
    job_id: str
    schedule: str
    next_run_time: datetime | None
    last_started: datetime | None

    def due(self, now: datetime) -> bool:
        return self.last_started is None or (self.next_run_time is not None and self.next_run_time <= now)


CommandFactory = Callable[[CrawlJob], Sequence[str]]


def crawl_command(job: CrawlJob) -> list[str]:
    """The real crawl: ``python -m newsarchive -v crawl --sites FILE SITE --home HOME``."""
    return [sys.executable, "-m", "newsarchive", "-v", "crawl", "--sites", str(job.sites_file), job.site,
            "--home", str(job.home.root)]


def make_trigger(spec: str, timezone: tzinfo) -> BaseTrigger:
    """A trigger for a checked schedule string: an interval (``"45m"``) or a cron expression."""
    try:
        return IntervalTrigger(seconds=int(parse_interval(spec).total_seconds()), timezone=timezone)
    except ValueError:
        return CronTrigger.from_crontab(spec, timezone=timezone)


def resolve_timezone(name: str | None) -> tzinfo:
    if name is None:
        from tzlocal import get_localzone

        return get_localzone()
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ScheduleError(f"--timezone: unknown time zone {name!r}") from exc


def first_run_time(trigger: BaseTrigger, last_started: datetime | None, now: datetime) -> datetime:
    """When a (re)created job first runs: now if never run or overdue, else the next time after its last run."""
    if last_started is None:
        return now
    nxt = trigger.get_next_fire_time(last_started, now)
    return now if nxt is None or nxt <= now else nxt


class _Scheduler(BackgroundScheduler):
    """APScheduler 3's loop runs ``_process_jobs`` once more after ``shutdown()`` (the state is then STOPPED,
    not PAUSED): it would submit due jobs to the closed executor and advance their stored next run times."""

    def _process_jobs(self) -> float | None:
        if self.state != STATE_RUNNING:
            return None
        return super()._process_jobs()  # type: ignore[no-any-return]


# The job function must be importable by reference (the job store pickles ``module:function``), so the
# scheduler of this process registers itself here while it runs.
_active: CrawlScheduler | None = None
_active_lock = threading.Lock()


def fire_scheduled_crawl(site: str, schedule: str, timezone: str = "") -> None:
    """APScheduler job: crawl ``site`` with the scheduler running in this process.

    ``schedule`` and ``timezone`` ride along in the stored job so that a changed sites.toml or ``--timezone``
    is noticed on the next start and the job is replaced."""
    scheduler = _active
    if scheduler is None:
        logger.warning("no scheduler running in this process; not crawling %s", site)
        return
    scheduler.on_fire(site)


class HostLocks:
    """One lock per host name; :meth:`hold` takes several in sorted order, giving up when ``stop`` is set."""

    def __init__(self) -> None:
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def _lock(self, host: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(host, threading.Lock())

    @contextmanager
    def hold(self, hosts: Sequence[str], stop: threading.Event) -> Iterator[bool]:
        """Yields True with all locks held, or False if ``stop`` was set while waiting."""
        held: list[threading.Lock] = []
        try:
            for host in sorted({h.lower() for h in hosts}):
                lock = self._lock(host)
                if not _acquire(lock, stop):
                    yield False
                    return
                held.append(lock)
            yield True
        finally:
            for lock in reversed(held):
                lock.release()


def _acquire(lock: Any, stop: threading.Event) -> bool:
    while not lock.acquire(timeout=0.2):
        if stop.is_set():
            return False
    if stop.is_set():
        lock.release()
        return False
    return True



class CrawlScheduler:
    """Runs the crawls of ``sites`` on their schedules; see the module docstring for the process model."""

    def __init__(self, sites: Sequence[SiteConfig], sites_file: str | Path, home: ArchiveHome,
                 options: ScheduleOptions | None = None, *, command: CommandFactory = crawl_command):
        self.options = options or ScheduleOptions()
        _check_options(self.options)
        if not sites:
            raise ScheduleError("no sites to schedule")
        self.sites = {s.name: s for s in sites}
        self.sites_file = Path(sites_file).resolve()
        self.home = home.ensure()
        self.command = command
        self.timezone = resolve_timezone(self.options.timezone)
        self.specs = {s.name: s.schedule or self.options.default_schedule for s in sites}
        self.index = ArchiveIndex(home.index_url)
        self._stop = threading.Event()
        self._hosts = HostLocks()
        self._slots = threading.BoundedSemaphore(self.options.max_concurrent)
        self._lock = threading.Lock()
        self._procs: dict[int, subprocess.Popen[bytes]] = {}
        self._signaled: dict[int, str] = {}
        self._busy = threading.Condition()
        self._running = 0
        self._submitted: dict[str, datetime] = {}
        self.outcomes: deque[RunOutcome] = deque(maxlen=10_000)  # newest outcomes, for callers and tests
        self.scheduler = self._make_scheduler()

    # -- setup --------------------------------------------------------------------------------------------
    def _make_scheduler(self) -> BackgroundScheduler:
        scheduler = _Scheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=self.index.engine, tablename=JOBS_TABLE)},
            executors={"default": ThreadPoolExecutor(len(self.sites) + 1)},
            job_defaults={"coalesce": True, "max_instances": 1,
                          "misfire_grace_time": self.options.misfire_grace},
            timezone=self.timezone,
        )
        scheduler.add_listener(self._on_event, EVENT_JOB_SUBMITTED | EVENT_JOB_MAX_INSTANCES | EVENT_JOB_MISSED)
        return scheduler

    def sync_jobs(self, *, remove_others: bool = True) -> list[JobPlan]:
        """Make the job store match the selected sites: keep unchanged jobs (and their next run time),
        (re)create changed or new ones; with ``remove_others``, remove jobs of sites not scheduled here."""
        now = utcnow()
        for job in self.scheduler.get_jobs() if remove_others else []:
            site = job.id.removeprefix(JOB_PREFIX)
            if job.id.startswith(JOB_PREFIX) and site not in self.sites:
                logger.info("removing the schedule of %s (not among the scheduled sites)", site)
                self.scheduler.remove_job(job.id)
        plans = []
        for name, spec in self.specs.items():
            job_id = JOB_PREFIX + name
            job = self.scheduler.get_job(job_id)
            last = runs.last_started(self.index, name)
            wanted = {"site": name, "schedule": spec, "timezone": str(self.timezone)}
            if job is None or job.kwargs != wanted:
                trigger = make_trigger(spec, self.timezone)
                job = self.scheduler.add_job(
                    fire_scheduled_crawl, trigger, id=job_id, name=f"crawl {name}", kwargs=wanted,
                    replace_existing=True,
                    next_run_time=first_run_time(trigger, last, now))
            plans.append(JobPlan(name, job_id, spec, job.next_run_time, last))
        return plans

    def plans(self) -> list[JobPlan]:
        """The current job of each scheduled site (after :meth:`start` or :meth:`run_due`)."""
        out = []
        for name, spec in self.specs.items():
            job = self.scheduler.get_job(JOB_PREFIX + name)
            out.append(JobPlan(name, JOB_PREFIX + name, spec, job.next_run_time if job else None,
                               runs.last_started(self.index, name)))
        return out

    def _activate(self) -> None:
        global _active
        with _active_lock:
            if _active is not None and _active is not self:
                raise ScheduleError("another scheduler is already running in this process")
            _active = self

    def _deactivate(self) -> None:
        global _active
        with _active_lock:
            if _active is self:
                _active = None

    # -- long-running mode --------------------------------------------------------------------------------
    def start(self) -> list[JobPlan]:
        """Start scheduling in background threads; returns the plan. Stop with :meth:`stop`."""
        self._activate()
        self._close_abandoned()
        self.scheduler.start(paused=True)  # jobs of unselected sites must not fire before the sync
        plans = self.sync_jobs()
        for plan in plans:
            logger.info("scheduled %s (%s), next run %s", plan.site, plan.schedule, plan.next_run_time)
        self._log_health(self.sites)
        self.scheduler.resume()
        return plans

    def run_forever(self) -> None:
        """Schedule until :meth:`request_stop` (or a signal, see :meth:`stop_on_signals`), then stop."""
        self.start()
        try:
            while not self._stop.wait(0.5):
                pass
        finally:
            self.stop()

    def request_stop(self) -> None:
        """Ask the scheduler to stop; safe from a signal handler."""
        self._stop.set()

    def stop(self) -> None:
        """Stop scheduling, stop running crawls (SIGINT, then kill after ``stop_timeout``), record outcomes."""
        self._stop.set()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        self._terminate_children()
        with self._busy:
            if not self._busy.wait_for(lambda: self._running == 0, timeout=30):
                logger.error("%d crawl job(s) did not finish recording their outcome", self._running)
        self._deactivate()
        self.index.close()

    @contextmanager
    def stop_on_signals(self) -> Iterator[None]:
        """While inside, SIGTERM and SIGINT ask the scheduler to stop (main thread only)."""
        def handler(signum: int, _frame: Any) -> None:
            logger.warning("received %s: stopping the scheduler and its crawls", signal.Signals(signum).name)
            self.request_stop()

        previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            yield
        finally:
            for sig, old in previous.items():
                signal.signal(sig, old)

    # -- once mode ----------------------------------------------------------------------------------------
    def run_due(self) -> list[RunOutcome]:
        """Run the sites that are due now, set their next run times, return the outcomes."""
        self._activate()
        try:
            self._close_abandoned()
            self.scheduler.start(paused=True)
            plans = self.sync_jobs(remove_others=False)  # a long-running scheduler may use the other jobs
            now = utcnow()
            due = [p for p in plans if p.due(now)]
            logger.info("due now: %s", ", ".join(p.site for p in due) or "nothing")
            outcomes = self._run_plans(due)
        finally:
            if self.scheduler.running:
                self.scheduler.shutdown(wait=False)
            self._deactivate()
        self.index.close()
        return outcomes

    def _run_plans(self, due: list[JobPlan]) -> list[RunOutcome]:
        if not due:
            return []
        with FuturesPool(max_workers=len(due)) as pool:
            futures = [pool.submit(self._run_once, plan) for plan in due]
            while not all(f.done() for f in futures):
                if self._stop.wait(0.2):
                    self._terminate_children()
                    break
            return [f.result() for f in futures]

    def _run_once(self, plan: JobPlan) -> RunOutcome:
        started = utcnow()
        outcome = self.execute(plan.site, trigger="once", scheduled_for=plan.next_run_time or started)
        if outcome.status != SKIPPED:
            job = self.scheduler.get_job(plan.job_id)
            if job is not None:
                job.modify(next_run_time=job.trigger.get_next_fire_time(started, started))
        return outcome

    # -- running one crawl --------------------------------------------------------------------------------
    def on_fire(self, site: str) -> None:
        """Called in an executor thread when the job of ``site`` fires."""
        scheduled_for = self._scheduled_time(JOB_PREFIX + site)
        if site not in self.sites:
            logger.warning("job for unknown site %s fired; ignoring it", site)
            return
        self.execute(site, trigger="scheduled", scheduled_for=scheduled_for)

    def execute(self, site: str, *, trigger: str, scheduled_for: datetime | None) -> RunOutcome:
        """Crawl ``site`` once: wait for its hosts and a slot, run the subprocess, record the outcome."""
        with self._busy:
            self._running += 1
        try:
            outcome = self._execute_locked(site, trigger, scheduled_for)
        except (SQLAlchemyError, IndexUnavailable) as exc:
            logger.error("crawl of %s not recorded: index unavailable: %s", site, exc)
            outcome = RunOutcome(site, runs.ERROR, detail=f"index unavailable: {exc}")
        finally:
            with self._busy:
                self._running -= 1
                self._busy.notify_all()
        with self._lock:
            self.outcomes.append(outcome)
        return outcome

    def _execute_locked(self, site: str, trigger: str, scheduled_for: datetime | None) -> RunOutcome:
        config = self.sites[site]
        with self._hosts.hold(config.domains, self._stop) as held:
            if not held or not _acquire(self._slots, self._stop):
                return RunOutcome(site, SKIPPED, detail="scheduler stopping")
            try:
                if self._running_elsewhere(site):
                    logger.warning("%s is still being crawled by another process; skipping this run", site)
                    return RunOutcome(site, SKIPPED, detail="running in another process")
                return self._launch(site, trigger, scheduled_for)
            finally:
                self._slots.release()

    def _launch(self, site: str, trigger: str, scheduled_for: datetime | None) -> RunOutcome:
        before = runs.newest_crawl_run_id(self.index)
        run_id = runs.start_schedule_run(self.index, job_id=JOB_PREFIX + site, site=site, trigger=trigger,
                                         scheduled_for=scheduled_for)
        job = CrawlJob(site, self.sites_file, self.home, run_id)
        log_path = self.home.root / "logs" / f"schedule-{_safe(site)}-{run_id}.log"
        proc = self._spawn(job, log_path)
        if isinstance(proc, RunOutcome):
            return proc
        logger.info("crawling %s (schedule run %d, pid %d, log %s)", site, run_id, proc.pid, log_path)
        try:
            runs.update_schedule_run(self.index, run_id, pid=proc.pid, log_path=str(log_path))
        finally:  # the crawl is tracked (and stopped on shutdown) even if the index is briefly unavailable
            code = proc.wait()
            with self._lock:
                self._procs.pop(run_id, None)
                status = self._signaled.pop(run_id, None) or (runs.OK if code == 0 else runs.FAILED)
        if code != 0:
            runs.mark_interrupted(self.index)  # a crawl killed (by us or by SIGKILL) leaves its run "running"
        crawl_run = runs.crawl_run_after(self.index, site, before, run_id)
        runs.update_schedule_run(self.index, run_id, status=status, exit_code=code, finished_at=utcnow(),
                                 crawl_run_id=crawl_run)
        log = logger.info if status == runs.OK else logger.warning
        log("crawl of %s ended: %s (exit %s, crawl run %s)", site, status, code, crawl_run)
        self._log_health([site])
        return RunOutcome(site, status, code, run_id, crawl_run)

    def _spawn(self, job: CrawlJob, log_path: Path) -> subprocess.Popen[bytes] | RunOutcome:
        env = {**os.environ, "NEWSARCHIVE_HOME": str(self.home.root), "NEWSARCHIVE_INDEX_URL": self.home.index_url,
               "NEWSARCHIVE_SCHEDULE_RUN_ID": str(job.schedule_run_id)}
        argv = list(self.command(job))
        with self._lock:
            if self._stop.is_set():
                runs.update_schedule_run(self.index, job.schedule_run_id, status=runs.STOPPED,
                                         finished_at=utcnow(), detail="scheduler stopping before launch")
                return RunOutcome(job.site, runs.STOPPED, schedule_run_id=job.schedule_run_id)
            try:
                log_path.parent.mkdir(parents=True, exist_ok=True)
                with open(log_path, "ab") as log:
                    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                            env=env, start_new_session=True)
            except OSError as exc:
                logger.error("cannot start the crawl of %s (%s): %s", job.site, argv[0], exc)
                runs.update_schedule_run(self.index, job.schedule_run_id, status=runs.ERROR,
                                         finished_at=utcnow(), detail=f"cannot start {argv[0]}: {exc}")
                return RunOutcome(job.site, runs.ERROR, schedule_run_id=job.schedule_run_id, detail=str(exc))
            self._procs[job.schedule_run_id] = proc
        return proc

    def _terminate_children(self) -> None:
        with self._lock:
            procs = {run_id: p for run_id, p in self._procs.items() if p.poll() is None}  # not ended already
            for run_id in procs:
                self._signaled[run_id] = runs.STOPPED
        for proc in procs.values():
            _send(proc, signal.SIGINT)
        deadline = time.monotonic() + self.options.stop_timeout
        for run_id, proc in procs.items():
            try:
                proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                logger.warning("crawl pid %d did not stop within %.0fs; killing it", proc.pid,
                               self.options.stop_timeout)
                with self._lock:
                    self._signaled[run_id] = runs.KILLED
                _kill_group(proc)

    # -- bookkeeping --------------------------------------------------------------------------------------
    def _on_event(self, event: JobEvent) -> None:
        if event.code == EVENT_JOB_SUBMITTED:
            with self._busy:
                self._submitted[event.job_id] = event.scheduled_run_times[-1]  # type: ignore[attr-defined]
                self._busy.notify_all()
        elif event.code == EVENT_JOB_MAX_INSTANCES:
            logger.info("%s is still running; its run due at %s is skipped", event.job_id,
                           event.scheduled_run_times[-1])  # type: ignore[attr-defined]
        elif event.code == EVENT_JOB_MISSED:
            logger.warning("%s missed its run at %s (later than the misfire grace time)", event.job_id,
                           event.scheduled_run_time)  # type: ignore[attr-defined]

    def _scheduled_time(self, job_id: str) -> datetime:
        """The run time APScheduler submitted the job for (its submission event follows the submit)."""
        with self._busy:
            self._busy.wait_for(lambda: job_id in self._submitted, timeout=5)
            return self._submitted.pop(job_id, None) or utcnow()

    def _running_elsewhere(self, site: str) -> bool:
        with self._lock:
            mine = set(self._procs)
        return any(r.id not in mine and pid_alive(r.pid) for r in runs.running(self.index, site))

    def _close_abandoned(self) -> None:
        dead = [r.id for r in runs.running(self.index) if not pid_alive(r.pid)]
        if dead:
            runs.mark_abandoned(self.index, dead)
            logger.warning("marked %d schedule run(s) left running by an earlier scheduler as failed", len(dead))
        runs.mark_interrupted(self.index)  # and the crawl runs of crawls killed before they could finish them

    def _log_health(self, sites: Any) -> None:
        for health in runs.site_health(self.index, list(sites), window=self.options.health_window):
            if health.stale:
                logger.warning("%s looks stale: its last %d runs found no new articles (last run %s)",
                               health.site, health.runs_checked, health.last_run)


def _check_options(options: ScheduleOptions) -> None:
    if options.max_concurrent < 1:
        raise ScheduleError(f"--max-concurrent must be at least 1, not {options.max_concurrent}")
    if options.misfire_grace is not None and options.misfire_grace < 1:
        raise ScheduleError(f"--misfire-grace must be at least 1 second, not {options.misfire_grace}")
    if options.stop_timeout < 0:
        raise ScheduleError(f"--stop-timeout must be >= 0, not {options.stop_timeout}")
    if options.health_window < 1:
        raise ScheduleError(f"--health-window must be at least 1, not {options.health_window}")
    try:
        check_schedule(options.default_schedule, "--default-schedule")
    except SitesConfigError as exc:
        raise ScheduleError(str(exc)) from exc


def _safe(name: str) -> str:
    return re.sub(r"[^\w.-]+", "_", name)[:80] or "site"


def _send(proc: subprocess.Popen[bytes], sig: int) -> None:
    try:
        proc.send_signal(sig)
    except ProcessLookupError:
        pass


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """Kill the crawl and its helpers (extraction workers share its process group)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        logger.error("crawl pid %d survived SIGKILL", proc.pid)

