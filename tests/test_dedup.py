"""Story clustering on the seed texts: the two wire copies (000 APA at oe24, 004 dpa at n-tv) are one story,
the unrelated articles on the same topic (001, 002, 003) are not; exact copies; incremental runs."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from sqlalchemy import event, func, select

from newsarchive.archive import dedup
from newsarchive.archive.dedup import (
    ClusterOptions,
    NotClustered,
    SignatureMismatch,
    StoryCluster,
    cluster_articles,
    overlap,
    shingles,
    signature,
    stories,
    story_of,
)
from newsarchive.archive.index import ArchiveIndex
from newsarchive.archive.models import Article, Capture, StoryBand
from tests.dedup_reference import (
    add_texts,
    expected_clusters,
    reference_clusters,
    stored_clusters,
    synthetic_texts,
)
from tests.pg import sqlite_and_postgresql_index

SEEDS = Path("/work/shared/seeds")


def seed(prefix: str) -> str:
    path = next(SEEDS.glob(f"{prefix}_*.txt"), None)
    if path is None:
        pytest.skip(f"seed texts not found in {SEEDS}")
    return path.read_text(encoding="utf-8")


def body(prefix: str) -> str:
    """The article body only: the paragraphs between headline/teaser chrome and the link lists."""
    lines = seed(prefix).splitlines()
    return "\n".join(lines[4:11] if prefix == "000" else lines[12:29])


@pytest.fixture(params=["sqlite", "postgresql"])
def index(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ArchiveIndex]:
    yield from sqlite_and_postgresql_index(request, tmp_path)


def add(index: ArchiveIndex, site: str, text: str, status: str = "ok") -> int:
    n = abs(hash((site, text, status))) % 10**9
    url = f"https://{site}.example/{n}"
    with index.session() as s:
        capture = Capture(url=url, canonical_url=url, host=f"{site}.example", status=200,
                          fetched_at=datetime.now(UTC), payload_digest="sha1:X", record_id=f"<urn:{site}:{n}>",
                          warc_file="x.warc.gz", warc_offset=0, warc_length=1)
        s.add(capture)
        s.flush()
        article = Article(capture_id=capture.id, url=url, canonical_url=url, site=site, status=status, text=text,
                          text_hash=hashlib.sha256(text.encode()).hexdigest() if text else None, title=site)
        s.add(article)
        s.flush()
        return article.id


def seeded(index: ArchiveIndex, texts: dict[str, str]) -> dict[str, int]:
    return {site: add(index, site, text) for site, text in texts.items()}


SITES = {"000": "oe24", "001": "zdf", "002": "srf", "003": "vienna", "004": "ntv"}


@pytest.mark.parametrize("part", ["full", "body"])
def test_wire_copies_cluster_unrelated_do_not(index: ArchiveIndex, part: str) -> None:
    texts = {site: seed(p) for p, site in SITES.items()}
    if part == "body":
        texts["oe24"], texts["ntv"] = body("000"), body("004")
    ids = seeded(index, texts)
    report = cluster_articles(index)
    assert (report.articles, report.near, report.new_stories, report.total_stories) == (5, 1, 4, 4)
    story = story_of(index, ids["ntv"])
    assert story.story_id == ids["oe24"] and story.sites == ("ntv", "oe24")
    assert story.members[1].method == "near" and story.members[1].similarity >= 0.25
    for site in ("zdf", "srf", "vienna"):
        assert story_of(index, ids[site]).size == 1
    assert [s.story_id for s in stories(index, min_size=2)] == [ids["oe24"]]
    articles = sorted((ids[site], text, hashlib.sha256(text.encode()).hexdigest()) for site, text in texts.items())
    assert stored_clusters(index) == expected_clusters(articles)  # what the datasketch-based code stored


def test_measured_similarities_leave_a_margin() -> None:
    """The figures behind the default threshold (0.15): the pair far above, every unrelated pair far below."""
    options = ClusterOptions()
    sets = {p: shingles(seed(p)) for p in SITES}
    sigs = {p: signature(s, options) for p, s in sets.items()}
    for a, b in itertools.combinations(SITES, 2):
        exact = len(sets[a] & sets[b]) / min(len(sets[a]), len(sets[b]))
        estimate = overlap(sigs[a], len(sets[a]), sigs[b], len(sets[b]))
        if (a, b) == ("000", "004"):
            assert exact > 0.35 and estimate > 2 * options.threshold
        else:
            assert exact < 0.02 and estimate < options.threshold / 3


def test_threshold_is_configurable(index: ArchiveIndex) -> None:
    ids = seeded(index, {"oe24": seed("000"), "ntv": seed("004")})
    report = cluster_articles(index, threshold=0.9)
    assert report.near == 0 and story_of(index, ids["ntv"]).story_id == ids["ntv"]
    report = cluster_articles(index, threshold=0.15, rebuild=True)
    assert report.near == 1 and story_of(index, ids["ntv"]).story_id == ids["oe24"]


def test_exact_copies_and_short_texts(index: ArchiveIndex) -> None:
    first = add(index, "srf", seed("002"))
    copy = add(index, "blick", seed("002"))
    short = add(index, "tiny", "Cookies akzeptieren")
    short_copy = add(index, "tiny2", "Cookies akzeptieren")
    cluster_articles(index)
    assert story_of(index, copy).story_id == first and story_of(index, copy).members[1].method == "exact"
    assert story_of(index, short).members[0].method == "short"
    assert story_of(index, short_copy).story_id == short  # short texts still match exactly


def test_incremental(index: ArchiveIndex) -> None:
    ids = seeded(index, {"oe24": seed("000"), "zdf": seed("001")})
    assert cluster_articles(index).articles == 2
    later = add(index, "ntv", seed("004"))
    report = cluster_articles(index)
    assert (report.articles, report.near, report.total_articles, report.total_stories) == (1, 1, 3, 2)
    assert story_of(index, later).story_id == ids["oe24"]
    assert cluster_articles(index).articles == 0


def test_failed_articles_have_no_story(index: ArchiveIndex) -> None:
    failed = add(index, "oe24", "", status="failed")
    cluster_articles(index)
    with pytest.raises(NotClustered):
        story_of(index, failed)


def test_other_minhash_settings_need_a_rebuild(index: ArchiveIndex) -> None:
    add(index, "oe24", seed("000"))
    cluster_articles(index)
    assert cluster_articles(index, options=ClusterOptions(num_perm=64)).articles == 0  # nothing new: no load
    add(index, "ntv", seed("004"))
    with pytest.raises(SignatureMismatch, match="rebuild"):
        cluster_articles(index, options=ClusterOptions(num_perm=64))
    report = cluster_articles(index, options=ClusterOptions(num_perm=64), rebuild=True)
    assert report.articles == 2 and report.near == 1
    with index.sessions() as s:
        row = s.get(StoryCluster, 1)
        assert row is not None and row.signature is not None and len(row.signature) == 64 * 8


def test_cli_stories(tmp_path: Path) -> None:
    from newsarchive.cli.main import cli

    index = ArchiveIndex(f"sqlite:///{tmp_path / 'index.sqlite'}")
    ids = seeded(index, {site: seed(p) for p, site in SITES.items()})
    result = CliRunner().invoke(cli, ["stories", "--home", str(tmp_path)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"story {ids['oe24']}: 2 articles at ntv, oe24"
    assert len(lines) == 3 and lines[2].split("\t")[:2] == [f"  {ids['ntv']}", "near"]
    assert "5 new articles clustered (0 exact, 1 near duplicates); 5 articles in 4 stories" in result.stderr


# -- the numpy MinHash against datasketch, the on-disk LSH against the in-memory one ---------------------------

VARIED = ["", "ein", "Zwei Wörter", "naïve café – “quotes” 中文 文本 😀 emoji " * 3, "a b c d e f g h i j k l m n",
          " ".join(f"w{i % 97}" for i in range(5000))]


@pytest.mark.parametrize(("num_perm", "seed"), [(128, 1), (64, 1), (256, 42), (7, 3)])
def test_signatures_equal_datasketch(num_perm: int, seed: int) -> None:
    """newsarchive.archive.minhash gives datasketch 2.0's affine32 signatures bit for bit (stored ones stay
    valid), and the stored bytes and overlap estimates are those of the datasketch-based code."""
    from datasketch import LeanMinHash, MinHash

    options = ClusterOptions(num_perm=num_perm, seed=seed)
    texts = [*VARIED, *(seed_text for p in SITES if (seed_text := _seed_or_empty(p))), *synthetic_texts(40, seed=seed)]
    ours, theirs = [], []
    for text in texts:
        for size in (1, 5):
            shingle_set = shingles(text, size)
            mh = MinHash(num_perm=num_perm, seed=seed, scheme="affine32")
            mh.update_batch([s.encode("utf-8") for s in shingle_set])
            sig = signature(shingle_set, options)
            assert sig.dtype == np.uint32 and np.array_equal(sig, mh.hashvalues)
            assert dedup._decode([sig.astype("<u8").tobytes()], options).tolist() == [mh.hashvalues.tolist()]
            ours.append((sig, len(shingle_set)))
            theirs.append(LeanMinHash(mh))
    for i, j in itertools.islice(itertools.combinations(range(len(ours)), 2), 0, None, 7):
        if ours[i][1] and ours[j][1]:
            jaccard = theirs[i].jaccard(theirs[j])
            shared = jaccard * (ours[i][1] + ours[j][1]) / (1.0 + jaccard)
            assert overlap(ours[i][0], ours[i][1], ours[j][0], ours[j][1]) == min(1.0, shared / min(ours[i][1], ours[j][1]))


def _seed_or_empty(prefix: str) -> str:
    path = next(SEEDS.glob(f"{prefix}_*.txt"), None)
    return path.read_text(encoding="utf-8") if path else ""


def test_lsh_layout_is_datasketchs_choice() -> None:
    from datasketch import MinHashLSH
    from datasketch.lsh import _optimal_param

    from newsarchive.archive.minhash import lsh_params

    lsh = MinHashLSH(threshold=dedup.DEFAULT_LSH_THRESHOLD, num_perm=dedup.DEFAULT_NUM_PERM)
    assert dedup.lsh_layout(ClusterOptions()) == (lsh.b, lsh.r) == (dedup.LSH_BANDS, dedup.LSH_ROWS)
    for threshold, num_perm in ((0.05, 128), (0.05, 64), (0.1, 128), (0.3, 128), (0.5, 256), (0.8, 128)):
        assert lsh_params(threshold, num_perm) == _optimal_param(threshold, num_perm, 0.5, 0.5)


@pytest.mark.parametrize("lsh_threshold", [0.05, 0.3])
def test_band_keys_give_datasketchs_candidates(lsh_threshold: float) -> None:
    """Articles sharing a band key are exactly the candidates datasketch's in-memory MinHashLSH returns."""
    from datasketch import LeanMinHash, MinHashLSH

    from newsarchive.archive.minhash import band_keys

    options = ClusterOptions(lsh_threshold=lsh_threshold)
    texts = [t for t in synthetic_texts(1500, seed=3) if len(shingles(t)) >= options.min_shingles]
    sigs = np.vstack([signature(shingles(t), options) for t in texts])
    lsh = MinHashLSH(threshold=lsh_threshold, num_perm=options.num_perm)
    for i, sig in enumerate(sigs):
        lsh.insert(i, LeanMinHash(seed=options.seed, hashvalues=sig, scheme="affine32"))
    keys = band_keys(sigs, *dedup.lsh_layout(options))
    found = 0
    for i in range(0, len(sigs), 5):
        ours = set(np.flatnonzero((keys == keys[i]).any(axis=1)).tolist())
        assert ours == set(lsh.query(LeanMinHash(seed=options.seed, hashvalues=sigs[i], scheme="affine32")))
        found += len(ours) > 1
    assert found > 50  # the corpus has near-duplicates to find


def test_clusters_equal_the_in_memory_lsh(index: ArchiveIndex) -> None:
    """Two closes over a synthetic corpus (small batches, so matches cross batches and fall within them)
    give every article the story, method, match and similarity of the datasketch-based clustering."""
    options = ClusterOptions(batch_size=64)
    texts = synthetic_texts(700, seed=11)
    articles = add_texts(index, texts[:400])
    cluster_articles(index, options=options)
    articles += add_texts(index, texts[400:], first=400)
    report = cluster_articles(index, options=options)
    expected = expected_clusters(articles)
    assert stored_clusters(index) == expected
    assert report.articles == 300 and report.near == sum(1 for a, _, _ in articles[400:] if expected[a][1] == "near")
    assert report.near > 30 and report.exact > 5  # the corpus exercises both paths
    with index.sessions() as s:
        signed = sum(1 for v in expected.values() if v[4] is not None)
        assert s.scalar(select(func.count()).select_from(StoryBand)) == signed * dedup.LSH_BANDS


def test_small_buffers_give_the_same_clusters(index: ArchiveIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    """Memory is bounded by the pair buffer and the signature chunk: scoring in many small rounds (pairs
    scored several times, candidates read in chunks of 3) changes nothing."""
    monkeypatch.setattr(dedup, "_PAIR_BUFFER", 7)
    monkeypatch.setattr(dedup, "_SIGNATURE_CHUNK", 3)
    monkeypatch.setattr(dedup, "_LOOKUP_KEYS", 5)
    texts = synthetic_texts(300, seed=17)
    articles = add_texts(index, texts[:200])
    cluster_articles(index)
    articles += add_texts(index, texts[200:], first=200)
    assert cluster_articles(index, options=ClusterOptions(batch_size=40)).near > 10
    assert stored_clusters(index) == expected_clusters(articles)


def test_a_close_reads_the_candidates_signatures_only(index: ArchiveIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    """Clustering a new batch reads the signatures of its LSH candidates, never the whole index: every
    statement that selects signatures is bounded by an id list or a LIMIT, and the ids read are candidates."""
    from datasketch import LeanMinHash, MinHashLSH

    texts = synthetic_texts(600, seed=5)
    old = add_texts(index, texts[:560])
    cluster_articles(index)
    new = add_texts(index, texts[560:], first=560)
    read: list[int] = []
    real = dedup._load_signatures

    def spy(session: object, ids: list[int], options: ClusterOptions) -> object:
        found = real(session, ids, options)  # type: ignore[arg-type]
        read.extend(found[0])
        return found

    statements: list[str] = []

    def seen(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    monkeypatch.setattr(dedup, "_load_signatures", spy)
    event.listen(index.engine, "before_cursor_execute", seen)
    try:
        cluster_articles(index)
    finally:
        event.remove(index.engine, "before_cursor_execute", seen)
    lsh = MinHashLSH(threshold=0.05, num_perm=128)
    placed = reference_clusters(old + new)
    for article_id, p in placed.items():
        if p.signature is not None and article_id <= old[-1][0]:
            lsh.insert(article_id, LeanMinHash(seed=1, hashvalues=np.frombuffer(p.signature, "<u8"), scheme="affine32"))
    candidates: set[int] = set()
    for article_id, _, _ in new:
        p = placed[article_id]
        if p.signature is not None and p.method != "exact":
            candidates |= set(lsh.query(LeanMinHash(seed=1, hashvalues=np.frombuffer(p.signature, "<u8"),
                                                    scheme="affine32")))
    assert set(read) <= candidates and len(read) == len(set(read))  # each candidate read once
    assert 0 < len(read) < len(old) / 4
    reading = [s for s in statements  # clustered articles' signatures (new articles' own are streamed once)
               if s.lstrip().startswith("SELECT") and "story_clusters.signature" in s.split("FROM")[0]]
    assert reading and all(" IN (" in s or "LIMIT" in s for s in reading)
    assert stored_clusters(index) == expected_clusters(old + new)


def test_rebuild_clears_the_bands(index: ArchiveIndex) -> None:
    articles = add_texts(index, synthetic_texts(120, seed=2))
    cluster_articles(index)
    options = ClusterOptions(num_perm=64, batch_size=50)
    report = cluster_articles(index, options=options, rebuild=True)
    assert report.articles == 120
    expected = expected_clusters(articles, options)
    assert stored_clusters(index) == expected
    with index.sessions() as s:
        bands = s.execute(select(StoryBand.article_id, StoryBand.band, StoryBand.key)).all()
    signed = {a for a, v in expected.items() if v[4] is not None}
    assert {a for a, _, _ in bands} == signed and len(bands) == len(signed) * 32  # 64 perms: also 32 x 1
    from newsarchive.archive.minhash import band_keys

    for article_id, band, key in bands[:200]:
        assert key == band_keys(np.frombuffer(expected[article_id][4] or b"", "<u8"), 32, 1)[0, band]


def test_other_lsh_settings_reband_the_stored_signatures(index: ArchiveIndex) -> None:
    """Changing the LSH threshold needs no rebuild (as with the in-memory LSH): the bands are remade."""
    texts = synthetic_texts(300, seed=9)
    articles = add_texts(index, texts[:250])
    cluster_articles(index)
    options = ClusterOptions(lsh_threshold=0.3)
    bands, rows = dedup.lsh_layout(options)
    assert rows > 1
    articles += add_texts(index, texts[250:], first=250)
    cluster_articles(index, options=options)
    with index.sessions() as s:
        assert s.scalar(select(func.count(func.distinct(StoryBand.band)))) == bands
    stored, before, after = stored_clusters(index), expected_clusters(articles[:250]), expected_clusters(articles, options)
    assert {k: stored[k] for k in before} == before
    # the new articles find what the in-memory LSH with these settings finds (their story ids follow from
    # the earlier articles' stories, which were placed with the default settings)
    assert {k: stored[k][1:] for k in after if k not in before} == {k: v[1:] for k, v in after.items()
                                                                    if k not in before}


def test_other_minhash_schemes_are_refused(index: ArchiveIndex) -> None:
    """Only datasketch's affine32 scheme is computed (the one every stored signature was made with)."""
    add(index, "oe24", seed("000"))
    with pytest.raises(ValueError, match="affine32"):
        cluster_articles(index, options=ClusterOptions(scheme="legacy"))
    with pytest.raises(ValueError, match="affine32"):
        signature(shingles(seed("000")), ClusterOptions(scheme="affine64"))


def _sign_in_the_worker(index: ArchiveIndex, articles: list[tuple[int, str, str | None]]) -> None:
    """Store on each article row the signature an extraction worker makes (pool.run_extract)."""
    from newsarchive.archive.minhash import text_signature

    with index.session() as s:
        for article_id, text, _ in articles:
            article = s.get(Article, article_id)
            assert article is not None
            article.shingles, article.signature = text_signature(text)


def test_worker_made_signatures_give_the_same_clusters(index: ArchiveIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    """Articles carrying their worker-made signatures are placed as if the close had hashed their texts,
    without hashing them; the story row takes the signature over and the article row lets it go."""
    from newsarchive.archive import minhash

    texts = synthetic_texts(300, seed=17)
    articles = add_texts(index, texts[:200])
    cluster_articles(index, options=ClusterOptions(batch_size=64))
    new = add_texts(index, texts[200:], first=200)
    _sign_in_the_worker(index, new)
    hashed: list[int] = []
    real = minhash.minhash
    monkeypatch.setattr(minhash, "minhash", lambda items, *a: hashed.append(1) or real(items, *a))
    report = cluster_articles(index, options=ClusterOptions(batch_size=64))
    assert not hashed  # every new article came signed
    assert report.articles == 100 and report.near > 5
    assert stored_clusters(index) == expected_clusters(articles + new)
    with index.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Article).where(Article.signature.is_not(None))) == 0


def test_worker_made_signatures_are_not_used_with_other_settings(index: ArchiveIndex) -> None:
    """A close with other MinHash settings than the workers' hashes the texts itself."""
    options = ClusterOptions(num_perm=64, seed=3)
    articles = add_texts(index, synthetic_texts(40, seed=5))
    _sign_in_the_worker(index, articles)
    cluster_articles(index, options=options)
    with index.sessions() as s:
        sigs = {r.article_id: r.signature for r in s.scalars(select(StoryCluster))}
    assert sum(v is not None for v in sigs.values()) > 20
    for article_id, text, _ in articles:
        made = shingles(text)
        expected = signature(made, options).astype("<u8").tobytes() if len(made) >= options.min_shingles else None
        assert sigs[article_id] == expected
