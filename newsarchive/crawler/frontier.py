"""Several crawler processes, one crawl: the request queue and duplicate filter in Redis (scrapy-redis).

Each worker is an ordinary ``newsarchive`` crawl process with :func:`distributed_settings` applied. It
writes WARC files of its own (``NEWSARCHIVE_WORKER_ID`` in the file name) and index rows into the shared
index (PostgreSQL). What the workers share lives in Redis under ``<prefix>:crawl:<name>:``:

``requests`` (sorted set)
    scrapy-redis' priority queue; ``dupefilter`` (set) its request fingerprints, so a URL is queued once
    for the whole crawl, whichever worker found it.
``inflight:<worker>`` (hash)
    Requests a worker has popped and not finished. :class:`RedisScheduler` pops with a Lua script that
    moves the request from the queue into this hash atomically and removes it once the engine is done
    with it (response archived, callback and item pipelines finished, follow-up requests queued).
``alive:<worker>`` (string with a TTL)
    The worker's heartbeat, renewed by a thread of its own (:class:`Heartbeat`), so that a busy or
    starved reactor does not look dead. A worker whose heartbeat expired is dead (SIGKILL, power loss): any live
    worker moves its in-flight requests back into the queue (one Lua script, so only once), and they are
    fetched again. A kill therefore costs exactly the killed worker's in-flight requests, fetched twice
    at most (the second response of an unchanged page is stored as an identical-payload revisit).
``seed`` / ``seeded``
    The spider stays a plain Scrapy spider (not a ``RedisSpider``): its ``start()`` runs in one worker
    only, the leader, chosen with a compare-and-set on ``seed``. Other workers wait in
    :class:`LeaderStartMiddleware` until ``seeded`` is set, and take over the seeding if the leader dies
    before it is done. Start requests depend on robots.txt and the index (recrawl policy), which every
    worker can read, so no separate seeding step or start-URL list in Redis is needed.
``workers`` (set)
    Registered workers. A worker closes when the crawl is done for everyone: the queue is empty, no
    worker has requests in flight and seeding is over. The last worker out deletes the crawl's keys, so
    the next crawl of the same name starts afresh; a crawl interrupted before that resumes when workers
    start again.

Politeness across workers: :class:`PoliteHTTPDownloadHandler` wraps Scrapy's HTTP handler and, right
before a request goes on the wire, takes the host's turn in Redis (``<prefix>:host:<host>`` holds the
time of the next allowed fetch, claimed atomically by a Lua script on Redis' clock), so all workers
together start at most one fetch per host per ``DOWNLOAD_DELAY`` (or the larger AutoThrottle delay).

Known limits: each worker fetches robots.txt itself (it must obey it); ``max_pages`` is a budget per
worker; the in-process URL-key filter of the spider is per worker, Redis dedupes by request fingerprint.
"""

from __future__ import annotations

import logging
import re
import resource
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import redis
from scrapy import Request, Spider, signals
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider, NotConfigured
from scrapy.http import Response
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from scrapy_redis.scheduler import Scheduler as ScrapyRedisScheduler
from twisted.internet import task

logger = logging.getLogger(__name__)

_ATTR = "_newsarchive_redis_crawl"
WORKER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.]*(-[A-Za-z0-9.]+)*$")

POP = """
local r = redis.call('ZPOPMIN', KEYS[1], 1)
if #r == 0 then return false end
redis.call('HSET', KEYS[2], ARGV[1], r[2] .. '\\n' .. r[1])
return r[1]
"""
RECOVER = """
if redis.call('EXISTS', KEYS[1]) == 1 then return -1 end
local vals = redis.call('HVALS', KEYS[2])
for _, v in ipairs(vals) do
  local sep = string.find(v, '\\n', 1, true)
  redis.call('ZADD', KEYS[3], tonumber(string.sub(v, 1, sep - 1)), string.sub(v, sep + 1))
end
redis.call('DEL', KEYS[2])
redis.call('SREM', KEYS[4], ARGV[1])
return #vals
"""
STATUS = """
local inflight = 0
for _, w in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  inflight = inflight + redis.call('HLEN', ARGV[1] .. w)
end
return {redis.call('ZCARD', KEYS[1]), inflight, redis.call('EXISTS', KEYS[3])}
"""
LEAD = """
local cur = redis.call('GET', KEYS[1])
if cur == ARGV[1] then return 1 end
if cur and redis.call('EXISTS', ARGV[2] .. cur) == 1 then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
return 1
"""
LEAVE = """
redis.call('SREM', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2], KEYS[3])
if redis.call('SCARD', KEYS[1]) == 0 and redis.call('ZCARD', KEYS[4]) == 0 then
  redis.call('DEL', KEYS[4], KEYS[5], KEYS[6], KEYS[7])
  return 1
end
return 0
"""
TURN = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local nxt = tonumber(redis.call('GET', KEYS[1]) or '0')
if now >= nxt then
  redis.call('SET', KEYS[1], string.format('%.0f', now + tonumber(ARGV[1])), 'PX', math.max(1000, math.ceil(tonumber(ARGV[1]) / 500)))
  return 0
end
return nxt - now
"""


class DistributedConfigError(ValueError):
    """A distributed-crawl setting is wrong (names the setting)."""


@dataclass(frozen=True)
class DistributedOptions:
    """Where the shared state lives and who this worker is."""

    redis_url: str
    crawl: str = "main"
    worker_id: str = ""
    prefix: str = "newsarchive"
    heartbeat_ttl: float = 10.0

    def resolved_worker(self) -> str:
        return self.worker_id or default_worker_id()


def default_worker_id() -> str:
    host = re.sub(r"[^A-Za-z0-9.]+", ".", socket.gethostname()).strip(".") or "worker"
    return host


def check_worker_id(worker: str) -> str:
    if not WORKER_ID.match(worker):
        raise DistributedConfigError(f"NEWSARCHIVE_WORKER_ID {worker!r}: use letters, digits, dots and single dashes")
    return worker


def distributed_settings(options: DistributedOptions) -> dict[str, Any]:
    """Scrapy settings that turn a crawl process into one worker of the crawl ``options.crawl``."""
    worker = check_worker_id(options.resolved_worker())
    base = f"{options.prefix}:crawl:{options.crawl}"
    return {
        "SCHEDULER": "newsarchive.crawler.frontier.RedisScheduler",
        "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
        "SCHEDULER_QUEUE_CLASS": "scrapy_redis.queue.PriorityQueue",
        "SCHEDULER_QUEUE_KEY": f"{base}:requests",
        "SCHEDULER_DUPEFILTER_KEY": f"{base}:dupefilter",
        # The queue and the fingerprints outlive any one worker; the last worker out of a finished crawl
        # deletes them (RedisCrawlState.leave), an interrupted crawl resumes.
        "SCHEDULER_PERSIST": True,
        "REDIS_URL": options.redis_url,
        "NEWSARCHIVE_REDIS_URL": options.redis_url,
        "NEWSARCHIVE_REDIS_CRAWL": options.crawl,
        "NEWSARCHIVE_REDIS_PREFIX": options.prefix,
        "NEWSARCHIVE_REDIS_HEARTBEAT_TTL": options.heartbeat_ttl,
        "NEWSARCHIVE_WORKER_ID": worker,
        "DOWNLOAD_HANDLERS": {"http": "newsarchive.crawler.frontier.PoliteHTTPDownloadHandler",
                              "https": "newsarchive.crawler.frontier.PoliteHTTPDownloadHandler"},
        "SPIDER_MIDDLEWARES": {"newsarchive.crawler.frontier.LeaderStartMiddleware": 10},
    }


def connect(url: str) -> redis.Redis:
    """A Redis client for ``url``; raises DistributedConfigError with one line when Redis is unreachable."""
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=30)
        client.ping()
    except (redis.RedisError, ValueError) as exc:
        raise DistributedConfigError(f"cannot reach Redis at {url} (NEWSARCHIVE_REDIS_URL): {exc}") from exc
    return client


def reset_crawl(client: redis.Redis, prefix: str, crawl: str) -> int:
    """Delete every key of one crawl (queue, fingerprints, workers); returns how many were deleted."""
    keys = list(client.scan_iter(match=f"{prefix}:crawl:{crawl}:*", count=500))
    return int(client.delete(*keys)) if keys else 0


@dataclass(frozen=True)
class CrawlStatus:
    queued: int
    inflight: int
    seeded: bool

    @property
    def done(self) -> bool:
        return self.seeded and self.queued == 0 and self.inflight == 0


class RedisCrawlState:
    """This worker's view of the shared crawl state; one per crawler (:meth:`of`)."""

    def __init__(self, crawler: Crawler):
        settings = crawler.settings
        url = settings.get("NEWSARCHIVE_REDIS_URL") or settings.get("REDIS_URL")
        if not url:
            raise NotConfigured("NEWSARCHIVE_REDIS_URL is not set")
        self.worker = check_worker_id(settings.get("NEWSARCHIVE_WORKER_ID") or default_worker_id())
        self.prefix = settings.get("NEWSARCHIVE_REDIS_PREFIX", "newsarchive")
        self.base = f"{self.prefix}:crawl:{settings.get('NEWSARCHIVE_REDIS_CRAWL', 'main')}"
        self.ttl_ms = max(1000, int(settings.getfloat("NEWSARCHIVE_REDIS_HEARTBEAT_TTL", 10.0) * 1000))
        self.queue_key = settings.get("SCHEDULER_QUEUE_KEY") or f"{self.base}:requests"
        self.client = connect(url)
        self.scripts = {name: self.client.register_script(src) for name, src in
                        (("pop", POP), ("recover", RECOVER), ("status", STATUS), ("lead", LEAD),
                         ("leave", LEAVE), ("turn", TURN))}
        self.stats = crawler.stats

    @classmethod
    def of(cls, crawler: Crawler) -> RedisCrawlState:
        state = getattr(crawler, _ATTR, None)
        if state is None:
            state = cls(crawler)
            setattr(crawler, _ATTR, state)
        return state

    def key(self, name: str) -> str:
        return f"{self.base}:{name}"

    @property
    def inflight_key(self) -> str:
        return self.key(f"inflight:{self.worker}")

    # -- membership -----------------------------------------------------------------------------------
    def register(self, wait: float | None = None) -> None:
        """Claim this worker id (heartbeat key) and requeue what a former life of it left in flight."""
        deadline = time.monotonic() + (self.ttl_ms / 1000 + 1 if wait is None else wait)
        alive = self.key(f"alive:{self.worker}")
        while not self.client.set(alive, str(time.time()), nx=True, px=self.ttl_ms):
            if time.monotonic() > deadline:
                raise DistributedConfigError(
                    f"worker id {self.worker!r} is in use by a running worker of this crawl "
                    f"(set another NEWSARCHIVE_WORKER_ID / --worker-id)")
            time.sleep(0.2)
        requeued = self._requeue_own()
        if requeued:
            logger.warning("requeued %d requests left in flight by an earlier run of worker %s", requeued, self.worker)
        self.client.sadd(self.key("workers"), self.worker)

    def _requeue_own(self) -> int:
        ghost = self.key(f"no-heartbeat:{self.worker}")  # never set: RECOVER treats our old entries as a dead worker's
        n = int(self.scripts["recover"](keys=[ghost, self.inflight_key, self.queue_key, self.key("workers")],
                                        args=[self.worker]))
        return max(n, 0)

    def heartbeat(self) -> bool:
        """Renew this worker's heartbeat (and membership); False when it had expired meanwhile.

        An expired heartbeat means other workers may have taken this worker for dead and requeued its
        in-flight requests (they will be fetched twice); it rejoins the crawl's workers either way.
        """
        pipe = self.client.pipeline()
        pipe.set(self.key(f"alive:{self.worker}"), str(time.time()), px=self.ttl_ms, get=True)
        pipe.sadd(self.key("workers"), self.worker)
        previous, _ = pipe.execute()
        return previous is not None

    def recover_dead(self) -> int:
        """Move the in-flight requests of workers whose heartbeat expired back into the queue."""
        total = 0
        for raw in self.client.smembers(self.key("workers")):
            other = raw.decode() if isinstance(raw, bytes) else str(raw)
            if other == self.worker:
                continue
            n = int(self.scripts["recover"](
                keys=[self.key(f"alive:{other}"), self.key(f"inflight:{other}"), self.queue_key, self.key("workers")],
                args=[other]))
            if n > 0:
                logger.warning("worker %s is gone: requeued its %d in-flight requests", other, n)
                self.stats.inc_value("newsarchive/distributed/recovered", n)
                total += n
        return total

    def leave(self) -> bool:
        """Deregister; the last worker out of a finished crawl deletes its keys. True if it did."""
        keys = [self.key("workers"), self.key(f"alive:{self.worker}"), self.inflight_key, self.queue_key,
                self.key("dupefilter"), self.key("seed"), self.key("seeded")]
        return bool(self.scripts["leave"](keys=keys, args=[self.worker]))

    # -- queue ------------------------------------------------------------------------------------------
    def pop(self, token: str) -> bytes | None:
        data = self.scripts["pop"](keys=[self.queue_key, self.inflight_key], args=[token])
        return bytes(data) if data else None

    def ack(self, tokens: list[str]) -> None:
        if tokens:
            self.client.hdel(self.inflight_key, *tokens)

    def status(self) -> CrawlStatus:
        queued, inflight, seeded = self.scripts["status"](
            keys=[self.queue_key, self.key("workers"), self.key("seeded")], args=[self.key("inflight:")])
        return CrawlStatus(int(queued), int(inflight), bool(seeded))

    # -- seeding ----------------------------------------------------------------------------------------
    def try_lead(self) -> bool:
        return bool(self.scripts["lead"](keys=[self.key("seed")], args=[self.worker, self.key("alive:")]))

    def seeded(self) -> bool:
        return bool(self.client.exists(self.key("seeded")))

    def mark_seeded(self) -> None:
        self.client.set(self.key("seeded"), self.worker)

    # -- politeness -------------------------------------------------------------------------------------
    def host_turn(self, host: str, delay: float) -> float:
        """0 when this worker may fetch from ``host`` now (and the host's next turn is set), else seconds to wait."""
        wait_us = self.scripts["turn"](keys=[f"{self.prefix}:host:{host}"], args=[int(delay * 1_000_000)])
        return int(wait_us) / 1_000_000


def max_rss_bytes() -> int:
    """Peak resident set size of this process (Linux reports ru_maxrss in KiB)."""
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024


class Heartbeat:
    """Renews a worker's heartbeat from a thread of its own, not from the reactor.

    A busy or starved reactor (a CPU-heavy page, a loaded machine) must not make a live worker look dead:
    its requests would be requeued and fetched twice. The thread renews the heartbeat every quarter of
    the TTL while the reactor shows signs of life (:meth:`alive`, called from the scheduler's tick); a
    reactor silent for ``stall`` seconds (hung) stops the renewal, so its requests go to the others.
    """

    def __init__(self, state: RedisCrawlState, stall: float):
        self.state = state
        self.interval = state.ttl_ms / 4000
        self.stall = stall
        self.last_sign = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{state.worker}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def alive(self) -> None:
        self.last_sign = time.monotonic()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _run(self) -> None:
        stalled = False
        while not self._stop.wait(self.interval):
            silent = time.monotonic() - self.last_sign
            if silent > self.stall:
                if not stalled:
                    logger.error("reactor silent for %.0f s: heartbeat stopped, so other workers take over "
                                 "this worker's requests", silent)
                stalled = True
                continue
            stalled = False
            try:
                if not self.state.heartbeat():
                    logger.warning("worker %s: heartbeat had expired; other workers may have requeued its "
                                   "in-flight requests", self.state.worker)
                    self.state.stats.inc_value("newsarchive/distributed/heartbeat_lapsed")
            except redis.RedisError as exc:  # the heartbeat may lapse and work be redone
                logger.warning("Redis error renewing the heartbeat: %s", exc)


class RedisScheduler(ScrapyRedisScheduler):
    """scrapy-redis' scheduler with in-flight tracking, heartbeats, recovery and a crawl-wide idle check.

    Enable with :func:`distributed_settings`. A popped request is remembered with a token until the engine
    has finished it (it left the engine's in-progress set: archived, parsed, items stored, follow-ups
    queued); a periodic tick then removes it from this worker's in-flight hash.
    """

    TICK = 0.5

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RedisScheduler:
        instance = super().from_crawler(crawler)
        instance.crawler = crawler
        instance.state = RedisCrawlState.of(crawler)
        instance.tokens = {}
        instance.unacked = []
        instance.serial = 0
        instance.session = uuid.uuid4().hex[:8]
        instance.next_recovery = 0.0
        instance.idle = False
        instance.ticker = task.LoopingCall(instance.tick)
        instance.heart = Heartbeat(instance.state, stall=max(60.0, 6 * instance.state.ttl_ms / 1000))
        crawler.signals.connect(instance.spider_idle, signal=signals.spider_idle)
        return instance

    crawler: Crawler
    state: RedisCrawlState
    tokens: dict[str, Request]
    unacked: list[tuple[threading.Event | None, list[str]]]
    serial: int
    session: str
    next_recovery: float
    idle: bool
    ticker: task.LoopingCall
    heart: Heartbeat

    def open(self, spider: Spider) -> Any:
        if not hasattr(self._engine_slot(), "inprogress"):  # checked against Scrapy 2.13-2.19
            raise RuntimeError("RedisScheduler needs the engine's in-progress request set (Scrapy 2.13+); "
                               "this Scrapy version does not have it, so in-flight requests cannot be tracked")
        result = super().open(spider)
        self.state.register()
        self.heart.start()
        self.ticker.start(self.TICK, now=False)
        logger.info("worker %s joined crawl %s (%d requests queued)", self.state.worker, self.state.base,
                    len(self.queue))
        return result

    def next_request(self) -> Request | None:
        self.serial += 1
        token = f"{self.session}-{self.serial}"
        data = self.state.pop(token)
        if data is None:
            return None
        request = self.queue._decode_request(data)
        self.tokens[token] = request
        if self.stats:
            self.stats.inc_value("scheduler/dequeued/redis")
        return request

    def enqueue_request(self, request: Request) -> bool:
        if not request.dont_filter and self.df.request_seen(request):
            self.df.log(request, self.spider)
            return False
        if self.stats:
            self.stats.inc_value("scheduler/enqueued/redis")
        self.queue.push(request)
        return True

    def tick(self) -> None:
        self.heart.alive()
        try:
            self.ack_finished()
            self.stats.set_value("newsarchive/worker/max_rss", max_rss_bytes())
            self.poke_if_idle()
            if time.monotonic() >= self.next_recovery:
                self.next_recovery = time.monotonic() + self.state.ttl_ms / 2000
                self.state.recover_dead()
        except redis.RedisError as exc:  # keep crawling; the heartbeat may lapse and work be redone
            logger.warning("Redis error in worker tick: %s", exc)

    def _engine_slot(self) -> Any:
        """The engine's slot: its ``inprogress`` set holds each request until Scrapy is done with it."""
        engine = self.crawler.engine
        return getattr(engine, "_slot", None) if engine is not None else None

    def ack_finished(self, wait: float = 0.0) -> None:
        """Remove finished requests from this worker's in-flight hash once their index rows are committed.

        The crawl commits index rows in batches from a thread (``IndexWriter``): a request the engine is done
        with may still have its capture row queued. Acked before the commit, a SIGKILL would lose the row
        (the record stays in the WARC, but no worker fetches the page again); so a request is acked only
        when a commit marker queued after its rows is set. ``wait``: seconds to wait for those markers.
        """
        slot = self._engine_slot()
        live = slot.inprogress if slot is not None else set()
        done = [t for t, r in self.tokens.items() if r not in live]
        for token in done:
            del self.tokens[token]
        if done:
            self.unacked.append((self._commit_marker(), done))
        ready: list[str] = []
        while self.unacked and (self.unacked[0][0] is None or self.unacked[0][0].wait(wait)):
            ready += self.unacked.pop(0)[1]
        self.state.ack(ready)

    def _commit_marker(self) -> threading.Event | None:
        rows = getattr(getattr(self.crawler, "_newsarchive_session", None), "rows", None)
        marker = getattr(rows, "committed_marker", None)
        try:
            return marker() if marker is not None else None
        except RuntimeError:  # the writer is closed: everything it had is committed
            return None

    def poke_if_idle(self) -> None:
        """An idle worker looks at the shared queue every tick, not only on the engine's 5 s heartbeat."""
        nextcall = getattr(self._engine_slot(), "nextcall", None)
        if self.idle and nextcall is not None:
            self.idle = False
            nextcall.schedule()

    def spider_idle(self, spider: Spider) -> None:
        """Stay open until the crawl is done for every worker (another worker may still find links)."""
        self.ack_finished()
        self.state.recover_dead()
        status = self.state.status()
        if not status.done:
            self.idle = True
            logger.debug("idle, crawl not done: %s", status)
            raise DontCloseSpider(f"crawl not done: {status.queued} queued, {status.inflight} in flight")

    def close(self, reason: str) -> None:
        if self.ticker.running:
            self.ticker.stop()
        self.heart.stop()  # before leaving: a late heartbeat would register this worker again
        self.stats.set_value("newsarchive/worker/max_rss", max_rss_bytes())
        self.stats.set_value("newsarchive/worker/id", self.state.worker)
        self.ack_finished(wait=60.0)
        try:
            if self.state.leave():
                logger.info("crawl %s finished: its Redis keys were removed", self.state.base)
        except redis.RedisError as exc:
            logger.warning("could not deregister worker %s: %s", self.state.worker, exc)
        super().close(reason)


class LeaderStartMiddleware:
    """Start requests come from one worker (the leader); the others wait until seeding is done.

    If the leader dies while seeding, a waiting worker takes over and runs ``start()`` itself; requests
    the leader already queued are filtered as duplicates by Redis.
    """

    POLL = 0.5

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.state = RedisCrawlState.of(crawler)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> LeaderStartMiddleware:
        return cls(crawler)

    async def process_start(self, start: AsyncIterator[Any]) -> AsyncIterator[Any]:
        while not self.state.seeded():
            if self.state.try_lead():
                logger.info("worker %s seeds the crawl with the spider's start requests", self.state.worker)
                self.crawler.stats.set_value("newsarchive/distributed/leader", 1)
                async for item_or_request in start:
                    yield item_or_request
                self.state.mark_seeded()
                return
            await _sleep(self.POLL)


class PoliteHTTPDownloadHandler(HTTP11DownloadHandler):
    """Scrapy's HTTP/1.1 handler that first waits for the host's turn, shared by all workers in Redis.

    The delay is the larger of ``DOWNLOAD_DELAY`` and the download slot's current delay (AutoThrottle
    raises it when a server slows down); 0 turns the shared delay off.
    """

    def __init__(self, crawler: Crawler):
        super().__init__(crawler)
        self.state = RedisCrawlState.of(crawler)
        self.base_delay = crawler.settings.getfloat("DOWNLOAD_DELAY")

    async def download_request(self, request: Request) -> Response:
        delay = self._delay(request)
        if delay > 0:
            host = urlparse_cached(request).hostname or ""
            waited_ms = 0
            while (wait := self.state.host_turn(host, delay)) > 0:
                await _sleep(wait)
                waited_ms += int(wait * 1000)
            if waited_ms:
                self.crawler.stats.inc_value("newsarchive/distributed/politeness_wait_ms", waited_ms)
        return await super().download_request(request)

    def _delay(self, request: Request) -> float:
        engine = self.crawler.engine
        delay = self.base_delay
        if engine is not None:
            downloader = engine.downloader
            slot = downloader.slots.get(downloader.get_slot_key(request))
            if slot is not None:
                delay = max(delay, slot.delay)
        return delay


async def _sleep(seconds: float) -> None:
    from twisted.internet import reactor  # imported late: the crawler process installs the asyncio reactor

    await maybe_deferred_to_future(task.deferLater(reactor, seconds, lambda: None))
