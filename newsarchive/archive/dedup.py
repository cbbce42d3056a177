"""Duplicate articles: exact copies (same text hash) and near-duplicates (one story told at several sites).

Syndicated wire copies (an APA/dpa text at two outlets) differ in chrome, headline and some edits, so they
never share a text hash. Their extracted texts still share many word 5-grams. Each ``ok`` article gets a
MinHash signature of its 5-word shingles; an LSH index over the signatures finds candidates, and an
article joins the story of its most similar candidate when the estimated *overlap coefficient*
(shared shingles / shingles of the shorter text) reaches ``threshold``. The overlap coefficient, not the
Jaccard index, because one copy is often a shortened or extended version of the other.

Measured on the seed texts (/work/shared/seeds, 5-word shingles, exact figures): the wire pair 000/004
has overlap 0.357 (Jaccard 0.172; body paragraphs only: 0.441 / 0.213); unrelated articles on the same
topic (000-003) at most 0.012 (Jaccard 0.006). MinHash (128 permutations) estimates of the pair's overlap
ranged 0.271..0.437 over 20 seeds, of the unrelated pairs 0.000..0.037: hence ``threshold=0.15`` and
an LSH Jaccard threshold of 0.05 for candidate retrieval (the pair's Jaccard estimates were >= 0.125).
On the texts our extractor pulled from the demo sites' pages (``newsarchive demo``) the pair measured
overlap 0.438 (Jaccard 0.213), the eight unrelated pairs at most 0.020.

Clusters persist in ``story_clusters`` (one row per article, with its signature), so clustering is
incremental: :func:`cluster_articles` only looks at articles that have no row yet. A story's id is the
article id of its first member.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from newsarchive.archive.index import ArchiveIndex
from newsarchive.archive.models import Article, StoryCluster, utcnow

if TYPE_CHECKING:  # datasketch and numpy load only when clustering runs, not with the archive library
    from datasketch import LeanMinHash, MinHashLSH

logger = logging.getLogger(__name__)

DEFAULT_THRESHOLD = 0.15
DEFAULT_LSH_THRESHOLD = 0.05
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class ClusterOptions:
    """Tuning of near-duplicate detection; the defaults were measured on the seed texts (module doc)."""

    threshold: float = DEFAULT_THRESHOLD  # estimated overlap coefficient to join a story
    lsh_threshold: float = DEFAULT_LSH_THRESHOLD  # Jaccard for LSH candidate retrieval
    num_perm: int = 128
    shingle_size: int = 5
    min_shingles: int = 10  # shorter texts only match exactly (a few words overlap with everything)
    seed: int = 1
    scheme: str = "affine32"  # datasketch >= 2.0 hash scheme; stored signatures must match it
    batch_size: int = 500


@dataclass(frozen=True)
class ClusterReport:
    articles: int  # newly clustered
    exact: int
    near: int
    new_stories: int
    total_articles: int
    total_stories: int
    threshold: float
    seconds: float


@dataclass(frozen=True)
class StoryMember:
    article_id: int
    site: str
    url: str
    title: str | None
    method: str
    similarity: float


@dataclass(frozen=True)
class Story:
    story_id: int
    members: tuple[StoryMember, ...]

    @property
    def size(self) -> int:
        return len(self.members)

    @property
    def sites(self) -> tuple[str, ...]:
        return tuple(sorted({m.site for m in self.members}))


class NotClustered(LookupError):
    """The article has no story yet (not ``ok``, or :func:`cluster_articles` has not run since)."""


class SignatureMismatch(ValueError):
    """Stored signatures were made with other MinHash settings; recluster with ``rebuild=True``."""


def shingles(text: str, size: int = 5) -> set[str]:
    words = _WORD.findall(text.lower())
    if len(words) < size:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i:i + size]) for i in range(len(words) - size + 1)}


def signature(shingle_set: Iterable[str], options: ClusterOptions) -> LeanMinHash:
    from datasketch import LeanMinHash, MinHash

    mh = MinHash(num_perm=options.num_perm, seed=options.seed, scheme=options.scheme)  # type: ignore[arg-type]
    mh.update_batch([s.encode("utf-8") for s in shingle_set])
    return LeanMinHash(mh)


def overlap(a: LeanMinHash, a_size: int, b: LeanMinHash, b_size: int) -> float:
    """Estimated shared shingles / shingles of the smaller set, from the MinHash Jaccard estimate."""
    if not a_size or not b_size:
        return 0.0
    jaccard = a.jaccard(b)
    shared = jaccard * (a_size + b_size) / (1.0 + jaccard)
    return min(1.0, shared / min(a_size, b_size))


@dataclass
class _State:
    """What is known of already clustered articles while new ones are placed."""

    options: ClusterOptions
    lsh: MinHashLSH
    by_hash: dict[str, int] = field(default_factory=dict)  # text hash -> story id
    sigs: dict[int, tuple[LeanMinHash, int, int]] = field(default_factory=dict)  # article -> sig, size, story

    def add(self, row: StoryCluster, sig: LeanMinHash | None) -> None:
        if row.text_hash:
            self.by_hash.setdefault(row.text_hash, row.story_id)
        if sig is not None:
            self.sigs[row.article_id] = (sig, row.shingles, row.story_id)
            self.lsh.insert(row.article_id, sig, check_duplication=False)


def _decode(blob: bytes, options: ClusterOptions) -> LeanMinHash:
    import numpy as np
    from datasketch import LeanMinHash

    values = np.frombuffer(blob, dtype=np.uint64)
    if len(values) != options.num_perm:
        raise SignatureMismatch(f"stored signatures have {len(values)} permutations, options say "
                                f"{options.num_perm}: recluster with rebuild=True (newsarchive stories --rebuild)")
    return LeanMinHash(seed=options.seed, hashvalues=values, scheme=options.scheme)


def _load_state(session: Session, options: ClusterOptions) -> _State:
    from datasketch import MinHashLSH

    state = _State(options, MinHashLSH(threshold=options.lsh_threshold, num_perm=options.num_perm))
    stmt = select(StoryCluster).order_by(StoryCluster.article_id).execution_options(yield_per=2000)
    for row in session.scalars(stmt):
        state.add(row, _decode(row.signature, options) if row.signature else None)
    return state


def _place(state: _State, article_id: int, text: str, text_hash: str | None) -> StoryCluster:
    """Decide the story of one new article (and register it for the ones after it)."""
    options = state.options
    shingle_set = shingles(text, options.shingle_size)
    sig = signature(shingle_set, options) if len(shingle_set) >= options.min_shingles else None
    row = StoryCluster(article_id=article_id, story_id=article_id, method="first", similarity=1.0,
                       text_hash=text_hash, shingles=len(shingle_set),
                       signature=sig.hashvalues.astype("<u8").tobytes() if sig is not None else None,
                       clustered_at=utcnow())
    if text_hash and text_hash in state.by_hash:
        row.story_id, row.method = state.by_hash[text_hash], "exact"
    elif sig is None:
        row.method = "short"
    else:
        best = _best_match(state, sig, len(shingle_set))
        if best is not None:
            row.matched_article_id, row.similarity, row.story_id = best
            row.method = "near"
    state.add(row, sig)
    return row


def _best_match(state: _State, sig: LeanMinHash, size: int) -> tuple[int, float, int] | None:
    """(article id, similarity, story id) of the most similar clustered article at or above threshold."""
    best: tuple[int, float, int] | None = None
    for candidate in state.lsh.query(sig):
        other, other_size, story = state.sigs[candidate]
        score = overlap(sig, size, other, other_size)
        if score >= state.options.threshold and (best is None or score > best[1]):
            best = (candidate, score, story)
    return best


def _has_unclustered(session: Session) -> bool:
    stmt = (select(Article.id).outerjoin(StoryCluster, StoryCluster.article_id == Article.id)
            .where(Article.status == "ok", StoryCluster.article_id.is_(None)).limit(1))
    return session.scalar(stmt) is not None


def _unclustered(session: Session, batch_size: int) -> Iterator[tuple[int, str, str | None]]:
    stmt = (select(Article.id, Article.text, Article.text_hash)
            .outerjoin(StoryCluster, StoryCluster.article_id == Article.id)
            .where(Article.status == "ok", StoryCluster.article_id.is_(None))
            .order_by(Article.id).execution_options(yield_per=batch_size))
    for article_id, text, text_hash in session.execute(stmt):
        yield int(article_id), text or "", text_hash


def cluster_articles(index: ArchiveIndex, threshold: float = DEFAULT_THRESHOLD, *,
                     options: ClusterOptions | None = None, rebuild: bool = False) -> ClusterReport:
    """Give every ``ok`` article without a story one; ``rebuild`` forgets all stories first."""
    options = options or ClusterOptions(threshold=threshold)
    started = time.perf_counter()
    if rebuild:
        with index.session() as s:
            s.execute(delete(StoryCluster))
    with index.sessions() as reader:
        if not _has_unclustered(reader):  # nothing new: do not load every signature
            return _report(index, {"first": 0, "exact": 0, "near": 0, "short": 0}, options,
                           time.perf_counter() - started)
        state = _load_state(reader, options)
        counts = {"first": 0, "exact": 0, "near": 0, "short": 0}
        pending: list[StoryCluster] = []
        for article_id, text, text_hash in _unclustered(reader, options.batch_size):
            row = _place(state, article_id, text, text_hash)
            counts[row.method] += 1
            pending.append(row)
            if len(pending) >= options.batch_size:
                _save(index, pending)
        _save(index, pending)
    return _report(index, counts, options, time.perf_counter() - started)


def _save(index: ArchiveIndex, rows: list[StoryCluster]) -> None:
    if rows:
        with index.session() as s:
            s.add_all(rows)
        rows.clear()


def _report(index: ArchiveIndex, counts: dict[str, int], options: ClusterOptions, seconds: float) -> ClusterReport:
    with index.sessions() as s:
        total = s.scalar(select(func.count()).select_from(StoryCluster)) or 0
        total_stories = s.scalar(select(func.count(func.distinct(StoryCluster.story_id)))) or 0
    report = ClusterReport(articles=sum(counts.values()), exact=counts["exact"], near=counts["near"],
                           new_stories=counts["first"] + counts["short"], total_articles=total,
                           total_stories=total_stories, threshold=options.threshold, seconds=seconds)
    logger.info("clustered %d articles: %d exact, %d near duplicates, %d new stories",
                report.articles, report.exact, report.near, report.new_stories)
    return report


def _members(session: Session, story_id: int) -> tuple[StoryMember, ...]:
    stmt = (select(StoryCluster, Article.site, Article.url, Article.title)
            .join(Article, Article.id == StoryCluster.article_id)
            .where(StoryCluster.story_id == story_id).order_by(StoryCluster.article_id))
    return tuple(StoryMember(row.article_id, site, url, title, row.method, row.similarity)
                 for row, site, url, title in session.execute(stmt))


def story_of(index: ArchiveIndex, article_id: int) -> Story:
    """The story of one article; raises :class:`NotClustered` when it has none."""
    with index.sessions() as s:
        story_id = s.scalar(select(StoryCluster.story_id).where(StoryCluster.article_id == article_id))
        if story_id is None:
            raise NotClustered(f"article {article_id} has no story (not ok, or run cluster_articles first)")
        return Story(story_id, _members(s, story_id))


def stories(index: ArchiveIndex, *, min_size: int = 1, limit: int | None = None) -> list[Story]:
    """Stories with at least ``min_size`` articles, largest first."""
    with index.sessions() as s:
        size = func.count().label("size")
        stmt = (select(StoryCluster.story_id, size).group_by(StoryCluster.story_id)
                .having(func.count() >= min_size).order_by(size.desc(), StoryCluster.story_id))
        if limit:
            stmt = stmt.limit(limit)
        ids = [int(story_id) for story_id, _ in s.execute(stmt)]
        return [Story(story_id, _members(s, story_id)) for story_id in ids]
