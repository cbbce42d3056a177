"""Story clustering on the seed texts: the two wire copies (000 APA at oe24, 004 dpa at n-tv) are one story,
the unrelated articles on the same topic (001, 002, 003) are not; exact copies; incremental runs."""

from __future__ import annotations

import hashlib
import itertools
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

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
from newsarchive.archive.models import Article, Capture

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


@pytest.fixture
def index(tmp_path: Path) -> ArchiveIndex:
    return ArchiveIndex(f"sqlite:///{tmp_path / 'index.sqlite'}")


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
