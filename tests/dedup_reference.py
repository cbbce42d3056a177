"""The story clustering as it was before the on-disk LSH, on datasketch (kept as a test reference), and a
synthetic corpus of wire copies for comparing the two.

The reference loads every signature into datasketch's in-memory ``MinHashLSH`` and places articles in id
order, exactly as ``newsarchive.archive.dedup`` did up to the story_bands change; the one addition is the
tie-break among candidates of equal score (the earliest article), which the old code left to the order of
a Python set and the new code fixes.
"""

from __future__ import annotations

import hashlib
import importlib.util
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from newsarchive.archive.dedup import ClusterOptions, shingles
from newsarchive.archive.index import ArchiveIndex
from newsarchive.archive.models import Article, Capture, StoryCluster

BENCH = Path(__file__).resolve().parent.parent / "bench"


@dataclass(frozen=True)
class Placed:
    story_id: int
    method: str
    matched_article_id: int | None
    similarity: float
    signature: bytes | None
    shingles: int


def reference_clusters(articles: list[tuple[int, str, str | None]],
                       options: ClusterOptions | None = None) -> dict[int, Placed]:
    """article id -> where the datasketch-based clustering puts it (``articles`` in id order)."""
    from datasketch import LeanMinHash, MinHash, MinHashLSH

    options = options or ClusterOptions()
    lsh = MinHashLSH(threshold=options.lsh_threshold, num_perm=options.num_perm)
    by_hash: dict[str, int] = {}
    sigs: dict[int, tuple[LeanMinHash, int, int]] = {}
    out: dict[int, Placed] = {}
    for article_id, text, text_hash in articles:
        shingle_set = shingles(text, options.shingle_size)
        sig = None
        if len(shingle_set) >= options.min_shingles:
            mh = MinHash(num_perm=options.num_perm, seed=options.seed, scheme="affine32")
            mh.update_batch([s.encode("utf-8") for s in shingle_set])
            sig = LeanMinHash(mh)
        story, method, matched, similarity = article_id, "first", None, 1.0
        if text_hash and text_hash in by_hash:
            story, method = by_hash[text_hash], "exact"
        elif sig is None:
            method = "short"
        else:
            best: tuple[float, int, int] | None = None
            size = len(shingle_set)
            for candidate in lsh.query(sig):
                other, other_size, other_story = sigs[candidate]
                jaccard = sig.jaccard(other)
                shared = jaccard * (size + other_size) / (1.0 + jaccard)
                score = min(1.0, shared / min(size, other_size))
                if score >= options.threshold and (best is None or (score, -candidate) > (best[0], -best[1])):
                    best = (score, candidate, other_story)
            if best is not None:
                similarity, matched, story = best
                method = "near"
        if text_hash:
            by_hash.setdefault(text_hash, story)
        if sig is not None:
            sigs[article_id] = (sig, len(shingle_set), story)
            lsh.insert(article_id, sig, check_duplication=False)
        out[article_id] = Placed(story, method, matched, similarity,
                                 sig.hashvalues.astype("<u8").tobytes() if sig is not None else None,
                                 len(shingle_set))
    return out


def text_hash(text: str) -> str | None:
    return hashlib.sha256(text.encode()).hexdigest() if text else None


def _bench_cluster() -> ModuleType:
    """bench/cluster.py, whose synthetic corpus the tests share (it imports only the standard library)."""
    spec = importlib.util.spec_from_file_location("bench_cluster", BENCH / "cluster.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


synthetic_texts = _bench_cluster().corpus


def add_texts(index: ArchiveIndex, texts: list[str], first: int = 0) -> list[tuple[int, str, str | None]]:
    """Articles with these texts (ids in order); returns (id, text, hash) as the clustering reads them."""
    with index.session() as s:
        return add_to_session(s, texts, first)


def add_to_session(s: Session, texts: list[str], first: int = 0) -> list[tuple[int, str, str | None]]:
    out = []
    for i, text in enumerate(texts, start=first):
        url = f"https://site{i % 7}.example/{i}"
        capture = Capture(url=url, canonical_url=url, host=f"site{i % 7}.example", status=200,
                          fetched_at=datetime.now(UTC), payload_digest="sha1:X", record_id=f"<urn:x:{i}>",
                          warc_file="x.warc.gz", warc_offset=0, warc_length=1)
        s.add(capture)
        s.flush()
        # a Core insert names only these columns (and those with defaults), so it also fits an older schema
        article_id = s.scalar(insert(Article).values(
            capture_id=capture.id, url=url, canonical_url=url, site=f"site{i % 7}", status="ok", text=text,
            text_hash=text_hash(text), title=str(i)).returning(Article.id))
        out.append((int(article_id), text, text_hash(text)))
    return out


def stored_clusters(index: ArchiveIndex) -> dict[int, Row]:
    with index.sessions() as s:
        return {r.article_id: (r.story_id, r.method, r.matched_article_id, r.similarity, r.signature, r.shingles)
                for r in s.scalars(select(StoryCluster))}


Row = tuple[int, str, int | None, float, bytes | None, int]  # story, method, match, similarity, signature, shingles


def expected_clusters(articles: list[tuple[int, str, str | None]], options: ClusterOptions | None = None) -> dict[int, Row]:
    """What the datasketch-based clustering stores for these articles, as :func:`stored_clusters` reads it."""
    return {k: (p.story_id, p.method, p.matched_article_id, p.similarity, p.signature, p.shingles)
            for k, p in reference_clusters(articles, options).items()}
