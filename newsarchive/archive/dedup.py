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

The LSH index lives on disk too (``story_bands``: the band keys of every stored signature), so a crawl's
close costs work in proportion to its new articles, not to the index: per batch of new articles, exact copies
are looked up by text hash, candidates by band key (one query per band and few hundred keys), and only the
candidates' signatures are read, in chunks; the memory held is bounded by the batch and those chunks whatever
the index size. Signatures are computed by :mod:`newsarchive.archive.minhash` (numpy, bit for bit
datasketch's ``affine32`` MinHash), so the close does not import datasketch and scipy (~0.5 s CPU).
"""

from __future__ import annotations

import logging
import time
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from newsarchive.archive.index import ArchiveIndex
from newsarchive.archive.models import Article, StoryBand, StoryCluster, utcnow

if TYPE_CHECKING:  # numpy loads only when clustering runs, not with the archive library
    import numpy as np

logger = logging.getLogger(__name__)

DEFAULT_THRESHOLD = 0.15
DEFAULT_LSH_THRESHOLD = 0.05
DEFAULT_NUM_PERM = 128
# The LSH layout for the default Jaccard threshold (0.05) and 128 permutations: 32 bands of 1 row. It is what
# datasketch 2.0's MinHashLSH picked for those settings (``MinHashLSH(threshold=0.05, num_perm=128).b, .r``
# prints ``32 1``: the pair that minimises the equally weighted areas of false positives and false negatives,
# 0.025 and 0.006), fixed here so the close runs no parameter search. Other settings get
# :func:`newsarchive.archive.minhash.lsh_params` (the same search; tests compare both).
LSH_BANDS, LSH_ROWS = 32, 1
SCHEME = "affine32"  # the only MinHash scheme newsarchive.archive.minhash computes
_LOOKUP_KEYS = 500  # band keys per IN list (far below SQLite's and PostgreSQL's parameter limits)
_SIGNATURE_CHUNK = 500  # candidate signatures read per query
_PAIR_BUFFER = 100_000  # (new article, candidate) pairs held before they are scored: bounds memory when
# texts share boilerplate and every band lookup returns many articles


@dataclass(frozen=True)
class ClusterOptions:
    """Tuning of near-duplicate detection; the defaults were measured on the seed texts (module doc)."""

    threshold: float = DEFAULT_THRESHOLD  # estimated overlap coefficient to join a story
    lsh_threshold: float = DEFAULT_LSH_THRESHOLD  # Jaccard for LSH candidate retrieval
    num_perm: int = DEFAULT_NUM_PERM
    shingle_size: int = 5  # these three as minhash.SHINGLE_SIZE, MIN_SHINGLES and SEED, with which the
    min_shingles: int = 10  # extraction workers sign texts; shorter texts only match exactly
    seed: int = 1
    scheme: str = SCHEME  # datasketch >= 2.0 hash scheme; stored signatures must match it
    batch_size: int = 500  # new articles placed per step (and per transaction)


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
    """The text's word ``size``-grams (:func:`newsarchive.archive.minhash.shingles`)."""
    from newsarchive.archive import minhash

    return minhash.shingles(text, size)


def signature(shingle_set: Iterable[str], options: ClusterOptions) -> np.ndarray:
    """The MinHash signature (``num_perm`` uint32 values, datasketch's ``hashvalues``) of a shingle set."""
    from newsarchive.archive.minhash import minhash

    _check_scheme(options)
    return minhash(shingle_set, options.num_perm, options.seed)


def overlap(a: np.ndarray, a_size: int, b: np.ndarray, b_size: int) -> float:
    """Estimated shared shingles / shingles of the smaller set, from the MinHash Jaccard estimate."""
    from newsarchive.archive import minhash

    if not a_size or not b_size:
        return 0.0
    return float(minhash.overlap(minhash.jaccard(a, b), a_size, b_size))


def lsh_layout(options: ClusterOptions) -> tuple[int, int]:
    """``(bands, rows)`` of the LSH for these options (constants for the defaults, see :data:`LSH_BANDS`)."""
    if (options.lsh_threshold, options.num_perm) == (DEFAULT_LSH_THRESHOLD, DEFAULT_NUM_PERM):
        return LSH_BANDS, LSH_ROWS
    from newsarchive.archive.minhash import lsh_params

    return lsh_params(options.lsh_threshold, options.num_perm)


def _check_scheme(options: ClusterOptions) -> None:
    if options.scheme != SCHEME:
        raise ValueError(f"MinHash scheme {options.scheme!r} is not supported (only {SCHEME!r})")


def _decode(blobs: Sequence[bytes], options: ClusterOptions) -> np.ndarray:
    from newsarchive.archive.minhash import from_blobs

    try:
        return from_blobs(blobs, options.num_perm)
    except ValueError as exc:
        raise SignatureMismatch(f"{exc} (options say {options.num_perm}): recluster with rebuild=True "
                                "(newsarchive stories --rebuild)") from exc


@dataclass
class _Stored:
    """The best stored match (at or above the threshold) of each new signature of a batch."""

    threshold: float
    best: dict[int, tuple[float, int, int]] = field(default_factory=dict)  # batch row -> score, article, story
    signatures_read: int = 0

    def offer(self, row: int, score: float, article_id: int, story_id: int) -> None:
        if score < self.threshold:
            return
        current = self.best.get(row)
        if current is None or (score, -article_id) > (current[0], -current[1]):  # ties: the earlier article
            self.best[row] = (score, article_id, story_id)


def _load_signatures(session: Session, ids: Sequence[int],
                     options: ClusterOptions) -> tuple[list[int], list[int], list[int], np.ndarray]:
    """(article ids, story ids, shingle counts, signature matrix) of the given clustered articles."""
    stmt = (select(StoryCluster.article_id, StoryCluster.story_id, StoryCluster.shingles, StoryCluster.signature)
            .where(StoryCluster.article_id.in_(ids), StoryCluster.signature.is_not(None)))
    rows = session.execute(stmt).all()
    return ([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows],
            _decode([r[3] or b"" for r in rows], options))


def _score(index: ArchiveIndex, stored: _Stored, sigs: np.ndarray, sizes: np.ndarray, new: array[int],
           candidates: array[int], options: ClusterOptions) -> None:
    """Score buffered (new row, candidate article) pairs, reading each candidate's signature once."""
    import numpy as np

    from newsarchive.archive import minhash

    pairs = np.unique(np.frombuffer(new, dtype=np.int64) * (1 << 32) + np.frombuffer(candidates, dtype=np.int64))
    rows, cands = pairs >> 32, pairs & 0xFFFFFFFF
    ids = np.unique(cands)
    with index.sessions() as s:
        for start in range(0, len(ids), _SIGNATURE_CHUNK):
            chunk = ids[start:start + _SIGNATURE_CHUNK]
            found, story_ids, counts, matrix = _load_signatures(s, chunk.tolist(), options)
            stored.signatures_read += len(found)
            if not found:
                continue
            order = np.argsort(np.asarray(found, dtype=np.int64))
            found_sorted = np.asarray(found, dtype=np.int64)[order]
            take = np.isin(cands, found_sorted)
            pair_rows, pair_cands = rows[take], cands[take]
            at = order[np.searchsorted(found_sorted, pair_cands)]
            other_sizes = np.asarray(counts, dtype=np.int64)[at]
            scores = minhash.overlap(minhash.jaccard(sigs[pair_rows], matrix[at]), sizes[pair_rows], other_sizes)
            scores = np.where((sizes[pair_rows] > 0) & (other_sizes > 0), scores, 0.0)
            for i in np.flatnonzero(scores >= options.threshold):
                stored.offer(int(pair_rows[i]), float(scores[i]), int(pair_cands[i]), int(story_ids[at[i]]))


def _best_stored(index: ArchiveIndex, sigs: np.ndarray, keys: np.ndarray, sizes: np.ndarray,
                 need: list[int], options: ClusterOptions) -> _Stored:
    """The best match among the clustered articles for the batch rows ``need``: candidates by band key, then
    their signatures only."""
    stored = _Stored(options.threshold)
    new: array[int] = array("q")
    candidates: array[int] = array("q")
    with index.sessions() as s:
        for band in range(keys.shape[1]):
            by_key: dict[int, list[int]] = {}
            for row in need:
                by_key.setdefault(int(keys[row, band]), []).append(row)
            wanted = list(by_key)
            for start in range(0, len(wanted), _LOOKUP_KEYS):
                stmt = (select(StoryBand.key, StoryBand.article_id)
                        .where(StoryBand.band == band, StoryBand.key.in_(wanted[start:start + _LOOKUP_KEYS]))
                        .execution_options(yield_per=5000))
                for key, article_id in s.execute(stmt):
                    for row in by_key[key]:
                        new.append(row)
                        candidates.append(article_id)
                    if len(new) >= _PAIR_BUFFER:
                        _score(index, stored, sigs, sizes, new, candidates, options)
                        del new[:], candidates[:]
    if new:
        _score(index, stored, sigs, sizes, new, candidates, options)
    return stored


def _first_stories(session: Session, hashes: set[str]) -> dict[str, int]:
    """text hash -> story of the first clustered article with that text, for the hashes already clustered."""
    found: dict[str, int] = {}
    wanted = sorted(hashes)
    for start in range(0, len(wanted), _LOOKUP_KEYS):
        first = (select(func.min(StoryCluster.article_id))
                 .where(StoryCluster.text_hash.in_(wanted[start:start + _LOOKUP_KEYS]))
                 .group_by(StoryCluster.text_hash))
        stmt = select(StoryCluster.text_hash, StoryCluster.story_id).where(StoryCluster.article_id.in_(first))
        found.update({h: int(story) for h, story in session.execute(stmt) if h is not None})
    return found


@dataclass
class _Batch:
    """One step of new articles: signatures, band keys and the rows to save."""

    clusters: list[dict[str, Any]] = field(default_factory=list)
    bands: list[dict[str, int]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: {"first": 0, "exact": 0, "near": 0, "short": 0})


class _New(NamedTuple):
    """An article to place, with the signature its extraction worker made (:func:`minhash.text_signature`)."""

    article_id: int
    text: str
    text_hash: str | None
    shingles: int | None
    signature: bytes | None


def _signed(batch: list[_New], options: ClusterOptions) -> tuple[list[int], list[np.ndarray]]:
    """The shingle count of each article of the batch and the signatures of those with enough shingles:
    the one its extraction worker stored when it was made with these options' settings, else computed."""
    from newsarchive.archive import minhash

    worker_made = (options.num_perm, options.seed, options.shingle_size, options.min_shingles) == \
        (minhash.NUM_PERM, minhash.SEED, minhash.SHINGLE_SIZE, minhash.MIN_SHINGLES)
    sizes: list[int] = []
    sigs: list[np.ndarray] = []
    for article in batch:
        if worker_made and article.shingles is not None and (
                article.signature is not None or article.shingles < options.min_shingles):
            sizes.append(article.shingles)
            if article.signature is not None:
                sigs.append(minhash.from_blobs([article.signature], options.num_perm)[0])
            continue
        shingle_set = shingles(article.text, options.shingle_size)
        sizes.append(len(shingle_set))
        if len(shingle_set) >= options.min_shingles:
            sigs.append(minhash.minhash(shingle_set, options.num_perm, options.seed))
    return sizes, sigs


def _place_batch(index: ArchiveIndex, batch: list[_New], options: ClusterOptions,
                 layout: tuple[int, int]) -> _Batch:
    """Decide the story of each new article of a batch, in article order: an exact copy of a clustered text
    (or of an earlier one of the batch), else the most similar candidate at or above the threshold among the
    clustered articles and the earlier ones of the batch, else a story of its own."""
    import numpy as np

    from newsarchive.archive import minhash

    counts, made = _signed(batch, options)
    signed = [i for i, n in enumerate(counts) if n >= options.min_shingles]
    row_of = {i: row for row, i in enumerate(signed)}
    sigs = np.vstack(made) if signed else np.empty((0, options.num_perm), dtype=np.uint32)
    sizes = np.asarray([counts[i] for i in signed], dtype=np.int64)
    keys = minhash.band_keys(sigs, *layout) if signed else np.empty((0, layout[0]), dtype=np.int32)
    with index.sessions() as s:
        by_hash = _first_stories(s, {a.text_hash for a in batch if a.text_hash})
    need = [row_of[i] for i in signed if batch[i].text_hash not in by_hash]
    stored = _best_stored(index, sigs, keys, sizes, need, options)

    out = _Batch()
    in_batch_hash: dict[str, int] = {}
    buckets: list[dict[int, list[int]]] = [{} for _ in range(layout[0])]  # band -> key -> earlier rows
    placed: dict[int, tuple[int, int]] = {}  # batch row -> (article id, story id)
    for i, (article_id, _, text_hash, _, _) in enumerate(batch):
        row = row_of.get(i)
        cluster: dict[str, Any] = {
            "article_id": article_id, "story_id": article_id, "method": "first", "matched_article_id": None,
            "similarity": 1.0, "text_hash": text_hash, "shingles": counts[i],
            "signature": minhash.to_blob(sigs[row]) if row is not None else None, "clustered_at": utcnow()}
        known = by_hash.get(text_hash) if text_hash else None
        if known is None and text_hash:
            known = in_batch_hash.get(text_hash)
        if known is not None:
            cluster["story_id"], cluster["method"] = known, "exact"
        elif row is None:
            cluster["method"] = "short"
        else:
            best = stored.best.get(row)
            earlier = sorted({e for band, key in enumerate(keys[row].tolist()) for e in buckets[band].get(key, ())})
            if earlier:
                scores = minhash.overlap(minhash.jaccard(sigs[earlier], sigs[row]), sizes[earlier], sizes[row])
                for e, score in zip(earlier, np.atleast_1d(scores).tolist(), strict=True):
                    other, story = placed[e]
                    if score >= options.threshold and (best is None or (score, -other) > (best[0], -best[1])):
                        best = (score, other, story)
            if best is not None:
                cluster["similarity"], cluster["matched_article_id"], cluster["story_id"] = best
                cluster["method"] = "near"
        out.counts[cluster["method"]] += 1
        out.clusters.append(cluster)
        if text_hash:
            in_batch_hash.setdefault(text_hash, cluster["story_id"])
        if row is not None:
            placed[row] = (article_id, cluster["story_id"])
            for band, key in enumerate(keys[row].tolist()):
                buckets[band].setdefault(key, []).append(row)
                out.bands.append({"article_id": article_id, "band": band, "key": key})
    return out


def _check_stored(index: ArchiveIndex, options: ClusterOptions, layout: tuple[int, int]) -> None:
    """Stored signatures must have the options' length (else :class:`SignatureMismatch`), and the band table
    the options' layout: checked on the newest signature, re-banded from the signatures when it differs."""
    from newsarchive.archive.minhash import band_keys

    with index.sessions() as s:
        newest = s.execute(select(StoryCluster.article_id, StoryCluster.signature)
                           .where(StoryCluster.signature.is_not(None))
                           .order_by(StoryCluster.article_id.desc()).limit(1)).first()
        if newest is None:
            return
        expected = dict(enumerate(band_keys(_decode([newest[1] or b""], options), *layout)[0].tolist()))
        stored = dict(s.execute(select(StoryBand.band, StoryBand.key).where(StoryBand.article_id == newest[0])).all())
    if stored != expected:
        _reband(index, options, layout)


def _reband(index: ArchiveIndex, options: ClusterOptions, layout: tuple[int, int], chunk: int = 2000) -> None:
    """Band keys of every stored signature again (LSH settings changed): in article order and chunks, so
    memory stays bounded, and an interrupted run is noticed by :func:`_check_stored` (the newest comes last)."""
    from newsarchive.archive.minhash import band_keys

    logger.warning("story bands were made with other LSH settings: re-banding every stored signature for %d x %d",
                   *layout)
    with index.session() as s:
        s.execute(delete(StoryBand))
    last = -1
    while True:
        with index.session() as s:
            rows = s.execute(select(StoryCluster.article_id, StoryCluster.signature)
                             .where(StoryCluster.article_id > last, StoryCluster.signature.is_not(None))
                             .order_by(StoryCluster.article_id).limit(chunk)).all()
            if not rows:
                return
            keys = band_keys(_decode([r[1] or b"" for r in rows], options), *layout).tolist()
            s.execute(insert(StoryBand), [{"article_id": r[0], "band": band, "key": key}
                                          for r, row_keys in zip(rows, keys, strict=True)
                                          for band, key in enumerate(row_keys)])
            last = rows[-1][0]


def _has_unclustered(session: Session) -> bool:
    stmt = (select(Article.id).outerjoin(StoryCluster, StoryCluster.article_id == Article.id)
            .where(Article.status == "ok", StoryCluster.article_id.is_(None)).limit(1))
    return session.scalar(stmt) is not None


def _unclustered(session: Session, batch_size: int) -> Iterator[_New]:
    stmt = (select(Article.id, Article.text, Article.text_hash, Article.shingles, Article.signature)
            .outerjoin(StoryCluster, StoryCluster.article_id == Article.id)
            .where(Article.status == "ok", StoryCluster.article_id.is_(None))
            .order_by(Article.id).execution_options(yield_per=batch_size))
    for article_id, text, text_hash, count, signature in session.execute(stmt):
        yield _New(int(article_id), text or "", text_hash, count, signature)


def cluster_articles(index: ArchiveIndex, threshold: float = DEFAULT_THRESHOLD, *,
                     options: ClusterOptions | None = None, rebuild: bool = False) -> ClusterReport:
    """Give every ``ok`` article without a story one; ``rebuild`` forgets all stories (and bands) first."""
    options = options or ClusterOptions(threshold=threshold)
    _check_scheme(options)
    started = time.perf_counter()
    counts = {"first": 0, "exact": 0, "near": 0, "short": 0}
    if rebuild:
        with index.session() as s:
            s.execute(delete(StoryBand))
            s.execute(delete(StoryCluster))
    with index.sessions() as reader:
        if not _has_unclustered(reader):  # nothing new: no signature is read
            return _report(index, counts, options, time.perf_counter() - started)
        layout = lsh_layout(options)
        _check_stored(index, options, layout)
        articles = _unclustered(reader, options.batch_size)
        while batch := list(islice(articles, max(1, options.batch_size))):
            placed = _place_batch(index, batch, options, layout)
            for method, n in placed.counts.items():
                counts[method] += n
            _save(index, placed, [a.article_id for a in batch if a.signature is not None])
    return _report(index, counts, options, time.perf_counter() - started)


def _save(index: ArchiveIndex, batch: _Batch, handed_over: Sequence[int] = ()) -> None:
    """The batch's story rows and band keys in one transaction, so the next batch finds them; the articles'
    own copies of the signatures their workers made (``handed_over``) are dropped: the story row keeps it."""
    with index.session() as s:
        s.execute(insert(StoryCluster), batch.clusters)
        if batch.bands:
            s.execute(insert(StoryBand), batch.bands)
        for start in range(0, len(handed_over), _LOOKUP_KEYS):
            s.execute(update(Article).where(Article.id.in_(handed_over[start:start + _LOOKUP_KEYS]))
                      .values(signature=None))


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
