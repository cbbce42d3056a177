"""``newsarchive import``: WARC/WACZ files written by other tools (Debian's wget, pywb's recording proxy,
py-wacz, warcio) become captures and articles; filters, damage, whole-file gzip, idempotence, resume."""

from __future__ import annotations

import gzip
import io
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from newsarchive.archive.index import ArchiveIndex
from newsarchive.archive.lookup import ArchiveLookup
from newsarchive.archive.models import Article, Capture, CrawlRun
from newsarchive.archive.warcscan import scan
from newsarchive.demo.server import DemoServer
from newsarchive.service.importer import ImportFailed, ImportFilters, ImportOptions, import_archives
from tests.pywb import free_port, pywb_bin

OUTLET = "wien24"


def wget_mirror(url: str, out: Path) -> Path:
    """A WARC written by Debian's wget mirroring ``url`` two levels deep."""
    if shutil.which("wget") is None:
        pytest.skip("wget is not installed (apt-get install wget)")
    out.mkdir(parents=True, exist_ok=True)
    subprocess.run(["wget", "-q", "-r", "-l", "2", "-e", "robots=off", "--warc-file=mirror", "-P", "site",
                    "--timeout=30", "--tries=1", url], cwd=out, check=False, timeout=120)
    warc = out / "mirror.warc.gz"
    assert warc.exists(), "wget wrote no WARC"
    return warc


@pytest.fixture(scope="module")
def wget_warc(demo_sites: DemoServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return wget_mirror(demo_sites.urls(OUTLET).home, tmp_path_factory.mktemp("wget"))


def record_types(path: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in scan(path):
        assert isinstance(item, tuple)
        _ref, record = item
        url = record.warc_header("WARC-Target-URI") or ""
        key = record.rec_type if "http" in url or record.rec_type in ("request", "warcinfo") else "other"
        counts[key] = counts.get(key, 0) + 1
    return counts


@pytest.fixture
def home(tmp_path: Path) -> Iterator[tuple[ArchiveIndex, Path]]:
    index = ArchiveIndex(f"sqlite:///{tmp_path / 'index.sqlite'}")
    yield index, tmp_path / "warcs"
    index.close()


def story_words(demo_sites: DemoServer) -> tuple[str, str]:
    story = demo_sites.stories(OUTLET)[0]
    return demo_sites.article_url(OUTLET, story.slug), story.paragraphs[0][0]


def test_wget_warc_gives_captures_articles_and_provenance(wget_warc: Path, demo_sites: DemoServer,
                                                          home: tuple[ArchiveIndex, Path]) -> None:
    index, warc_dir = home
    report = import_archives(index, warc_dir, [wget_warc.parent], ImportOptions(workers=2))
    responses = record_types(wget_warc)["response"]
    assert report.captures == responses and not report.damaged
    url, first_paragraph = story_words(demo_sites)
    article = index.latest_article(url)
    assert article is not None and article.status == "ok" and article.language == "de"
    assert first_paragraph[:60] in article.text
    assert article.metadata_record_id  # the extracted fields are in a WARC metadata record of the home
    with index.sessions() as s:
        capture = s.get(Capture, article.capture_id)
        run = s.get(CrawlRun, report.run_id)
    assert capture is not None and run is not None and capture.run_id == run.id and run.spider == "import"
    assert capture.warc_file.startswith("imported/") and capture.method == "GET" and capture.request_record_id
    assert (warc_dir / capture.warc_file).resolve() == wget_warc.resolve()  # linked, not copied
    record = ArchiveLookup(index, warc_dir).read(capture)  # replay reads it through the link
    assert record.warc_header("WARC-Record-ID") == capture.record_id and record.status == 200
    assert capture.kind == "article" and capture.url == url  # wget's <...> around the URI is dropped
    from newsarchive.archive.verify import verify_archive

    assert verify_archive(index, warc_dir).problems == []  # the linked file and the metadata records agree
    from newsarchive.archive.reindex import reindex

    rebuilt = ArchiveIndex(f"sqlite:///{warc_dir.parent / 'rebuilt.sqlite'}")
    redone = reindex(rebuilt, warc_dir)  # the WARCs alone, imported ones included, give the same rows back
    assert (redone.captures, redone.articles, redone.problems) == (responses, report.articles, [])
    assert {(a.url, a.text) for a in rebuilt.articles()} == {(a.url, a.text) for a in index.articles()}
    rebuilt.close()
    from newsarchive.archive.cdxj import write_cdxj

    lines = io.StringIO()
    assert write_cdxj(warc_dir, lines).lines == responses  # pywb's index names the link inside warcs/
    assert f'"filename": "{capture.warc_file}"' in lines.getvalue()

    again = import_archives(index, warc_dir, [wget_warc], ImportOptions(workers=0))
    assert again.captures == 0 and again.duplicates == responses and again.articles == 0


def test_resume_after_a_stop_and_copy(wget_warc: Path, home: tuple[ArchiveIndex, Path]) -> None:
    index, warc_dir = home
    first = import_archives(index, warc_dir, [wget_warc], ImportOptions(
        workers=0, copy=True, batch_size=4, filters=ImportFilters(max_records=6)))
    assert first.captures == 6
    rest = import_archives(index, warc_dir, [wget_warc], ImportOptions(workers=0, copy=True, batch_size=4))
    responses = record_types(wget_warc)["response"]
    assert rest.captures == responses - 6 and rest.duplicates == 6
    with index.sessions() as s:
        ids = list(s.scalars(select(Capture.record_id)))
        files = set(s.scalars(select(Capture.warc_file)))
    assert len(ids) == len(set(ids)) == responses
    (name,) = files
    assert not (warc_dir / name).is_symlink() and (warc_dir / name).read_bytes() == wget_warc.read_bytes()


def test_filters(wget_warc: Path, demo_sites: DemoServer, home: tuple[ArchiveIndex, Path]) -> None:
    index, warc_dir = home
    url, _ = story_words(demo_sites)
    only_css = import_archives(index, warc_dir, [wget_warc], ImportOptions(
        extract=False, filters=ImportFilters(url_pattern=r"\.css$")))
    assert only_css.captures >= 1 and only_css.filtered > 0 and only_css.articles == 0
    with index.sessions() as s:
        assert all(u.endswith(".css") for u in s.scalars(select(Capture.url)))
    later = ImportFilters(since=datetime(2100, 1, 1, tzinfo=UTC))
    assert import_archives(index, warc_dir, [wget_warc], ImportOptions(extract=False, filters=later)).captures == 0
    other_host = ImportFilters(hosts=("example.org",))
    assert import_archives(index, warc_dir, [wget_warc], ImportOptions(extract=False, filters=other_host)).captures == 0
    english = import_archives(index, warc_dir, [wget_warc], ImportOptions(
        workers=0, filters=ImportFilters(url_pattern="/welt/", languages=("en",))))
    assert english.captures > 0 and english.articles_ok == 0 and english.other_language > 0
    assert index.latest_article(url) is None


def test_article_pattern(wget_warc: Path, demo_sites: DemoServer, home: tuple[ArchiveIndex, Path]) -> None:
    index, warc_dir = home
    url, _ = story_words(demo_sites)
    only_stories = ImportOptions(workers=0, article_pattern=r"^https?://[^/]+/welt/[^/]+/\d+$")
    report = import_archives(index, warc_dir, [wget_warc], only_stories)
    assert report.captures == record_types(wget_warc)["response"]
    assert {a.url for a in index.articles(status=None)} == {url}  # section pages and the imprint: captures only


def test_whole_file_gzip_and_damaged_members(wget_warc: Path, tmp_path: Path,
                                             home: tuple[ArchiveIndex, Path]) -> None:
    index, warc_dir = home
    plain = gzip.decompress(wget_warc.read_bytes())
    whole = tmp_path / "whole.warc.gz"
    whole.write_bytes(gzip.compress(plain))  # one gzip member for the whole file
    report = import_archives(index, warc_dir, [whole], ImportOptions(extract=False))
    responses = record_types(wget_warc)["response"]
    assert report.captures == responses and not report.damaged
    with index.sessions() as s:
        capture = s.scalars(select(Capture).where(Capture.status == 200)).first()
    assert capture is not None and capture.warc_file.endswith("-whole.warc")  # decompressed into the home
    assert ArchiveLookup(index, warc_dir).read(capture).status == 200

    data = bytearray(wget_warc.read_bytes())
    refs = [item[0] for item in scan(wget_warc) if isinstance(item, tuple)]
    middle = refs[len(refs) // 2]
    data[middle.offset + middle.length // 2] ^= 0xFF  # one flipped byte in one member
    broken = tmp_path / "broken" / "broken.warc.gz"
    broken.parent.mkdir()
    broken.write_bytes(bytes(data))
    _index2 = ArchiveIndex(f"sqlite:///{tmp_path / 'other.sqlite'}")
    damaged = import_archives(_index2, tmp_path / "other-warcs", [broken], ImportOptions(extract=False))
    assert len(damaged.damaged) == 1 and damaged.damaged[0].offset == middle.offset
    assert responses - 1 <= damaged.captures < responses
    _index2.close()


def test_bad_paths(tmp_path: Path, home: tuple[ArchiveIndex, Path]) -> None:
    index, warc_dir = home
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(ImportFailed, match="not a .warc"):
        import_archives(index, warc_dir, [tmp_path / "notes.txt"])
    with pytest.raises(ImportFailed, match="no such file"):
        import_archives(index, warc_dir, [tmp_path / "missing.warc.gz"])
    (tmp_path / "fake.wacz").write_bytes(b"not a zip")
    with pytest.raises(ImportFailed, match="not a readable WACZ"):
        import_archives(index, warc_dir, [tmp_path / "fake.wacz"])


# -- records real files contain, written with warcio (the library behind pywb and Browsertrix) -----------------
PAGE = ("<html lang='en'><head><title>Harbour reopens</title></head><body><article><h1>Harbour reopens</h1>"
        + "".join(f"<p>The harbour of the town reopened on Monday after {n} weeks of repairs to the old quay, "
                  f"officials said, and the first ferries are expected to arrive before the weekend.</p>"
                  for n in range(2, 8)) + "</article></body></html>").encode("utf-8")


def _http(status: str, headers: list[tuple[str, str]]) -> StatusAndHeaders:
    return StatusAndHeaders(status, headers, protocol="HTTP/1.1")


def tricky_warc(path: Path) -> None:
    import brotli  # type: ignore[import-not-found]

    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=True, warc_version="1.0")
        chunked = b"".join(b"%x\r\n%s\r\n" % (len(PAGE[i:i + 300]), PAGE[i:i + 300]) for i in range(0, len(PAGE), 300))
        chunked += b"0\r\n\r\n"
        response = writer.create_warc_record("https://news.example/chunked", "response", payload=io.BytesIO(chunked),
                                             http_headers=_http("200 OK", [("Content-Type", "text/html"),
                                                                           ("Transfer-Encoding", "chunked")]))
        writer.write_record(response)
        request = writer.create_warc_record(
            "https://news.example/chunked", "request", payload=io.BytesIO(b""),
            http_headers=StatusAndHeaders("GET /chunked HTTP/1.1", [("Host", "news.example")], is_http_request=True),
            warc_headers_dict={"WARC-Concurrent-To": response.rec_headers.get_header("WARC-Record-ID")})
        writer.write_record(request)  # request after its response (pywb's order)
        br = writer.create_warc_record("https://news.example/br", "response", payload=io.BytesIO(brotli.compress(PAGE)),
                                       http_headers=_http("200 OK", [("Content-Type", "text/html; charset=utf-8"),
                                                                     ("Content-Encoding", "br")]),
                                       warc_headers_dict={"WARC-Truncated": "length"})
        writer.write_record(br)
        revisit = writer.create_revisit_record("https://news.example/br", br.rec_headers.get_header("WARC-Payload-Digest"),
                                               "https://news.example/br", br.rec_headers.get_header("WARC-Date"),
                                               http_headers=_http("200 OK", [("Content-Type", "text/html")]))
        writer.write_record(revisit)
        image = writer.create_warc_record("https://news.example/pic.png", "resource", payload=io.BytesIO(b"\x89PNG...."),
                                          warc_content_type="image/png")
        writer.write_record(image)
    first = next(item[0] for item in scan(path) if isinstance(item, tuple))
    data = path.read_bytes()
    path.write_bytes(data + data[first.offset:first.offset + first.length])  # one record twice: one capture


def test_chunked_br_truncated_revisit_resource_duplicate(tmp_path: Path, home: tuple[ArchiveIndex, Path]) -> None:
    index, warc_dir = home
    tricky_warc(tmp_path / "tricky.warc.gz")
    report = import_archives(index, warc_dir, [tmp_path / "tricky.warc.gz"], ImportOptions(workers=0))
    assert report.captures == 4 and report.duplicates == 1 and report.articles_ok == 2
    with index.sessions() as s:
        rows = {c.url + ":" + c.record_type: c for c in s.scalars(select(Capture))}
        texts = {a.url: a.text for a in s.scalars(select(Article))}
    assert rows["https://news.example/chunked:response"].request_record_id  # paired though written after
    assert rows["https://news.example/br:response"].truncated == "length"
    assert rows["https://news.example/pic.png:resource"].content_type == "image/png"
    assert set(texts) == {"https://news.example/chunked", "https://news.example/br"}  # no article for the revisit
    assert all("first ferries are expected" in t and "\r\n" not in t for t in texts.values())


# -- pywb's recording proxy ---------------------------------------------------------------------------------------
@pytest.mark.slow
def test_pywb_recording(demo_sites: DemoServer, tmp_path: Path, home: tuple[ArchiveIndex, Path]) -> None:
    import time
    import urllib.request

    manager, server = pywb_bin("wb-manager"), pywb_bin("wayback")
    if not manager or not server:
        pytest.skip("pywb is not installed (set NEWSARCHIVE_PYWB_BIN to its bin directory or put it on PATH)")
    subprocess.run([manager, "init", "rec"], cwd=tmp_path, check=True, capture_output=True, timeout=120)
    port = free_port()
    proc = subprocess.Popen([server, "--record", "--live", "-b", "127.0.0.1", "-p", str(port)], cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url, first_paragraph = story_words(demo_sites)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/rec/record/mp_/{url}", timeout=10).read()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.2)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    warcs = list((tmp_path / "collections" / "rec" / "archive").glob("*.warc.gz"))
    assert warcs, "pywb recorded nothing"
    index, warc_dir = home
    report = import_archives(index, warc_dir, [tmp_path / "collections" / "rec" / "archive"], ImportOptions(workers=0))
    assert report.captures >= 1 and not report.damaged
    article = index.latest_article(url)
    assert article is not None and first_paragraph[:60] in article.text
    with index.sessions() as s:
        capture = s.get(Capture, article.capture_id)
    assert capture is not None and capture.request_record_id  # pywb writes the request after the response


# -- a WACZ written by py-wacz --------------------------------------------------------------------------------------
def wacz_cli() -> str:
    found = shutil.which("wacz") or str(Path(sys.executable).parent / "wacz")
    if not Path(found).exists():
        pytest.skip("py-wacz is not installed (pip install wacz; it is in the test extra)")
    return found


def test_py_wacz_package_imports_like_its_warc(wget_warc: Path, tmp_path: Path, demo_sites: DemoServer) -> None:
    package = tmp_path / "mirror.wacz"
    subprocess.run([wacz_cli(), "create", "-o", str(package), str(wget_warc)], check=True, capture_output=True,
                   timeout=300)
    direct = ArchiveIndex(f"sqlite:///{tmp_path / 'direct.sqlite'}")
    via_wacz = ArchiveIndex(f"sqlite:///{tmp_path / 'wacz.sqlite'}")
    import_archives(direct, tmp_path / "direct", [wget_warc], ImportOptions(workers=0))
    report = import_archives(via_wacz, tmp_path / "wacz", [package], ImportOptions(workers=0))
    assert report.files == 1 and report.captures == record_types(wget_warc)["response"]

    def articles(index: ArchiveIndex) -> set[tuple[str, str | None, str]]:
        return {(a.url, a.title, a.text) for a in index.articles()}

    assert articles(via_wacz) == articles(direct) and articles(direct)
    url, _ = story_words(demo_sites)
    article = via_wacz.latest_article(url)
    assert article is not None
    with via_wacz.sessions() as s:
        capture = s.get(Capture, article.capture_id)
    assert capture is not None and capture.warc_file.startswith("imported/") and "-mirror/" in capture.warc_file
    direct.close()
    via_wacz.close()


def test_cli_summary_and_damage_exit_status(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from newsarchive.cli.main import cli

    (tmp_path / "in").mkdir()
    tricky_warc(tmp_path / "in" / "tricky.warc.gz")
    args = ["import", str(tmp_path / "in"), "--home", str(tmp_path / "home"), "--workers", "0", "-q"]
    first = CliRunner().invoke(cli, args)
    assert first.exit_code == 0, first.output
    assert "4 captures indexed" in first.output and "2 articles" in first.output
    data = bytearray((tmp_path / "in" / "tricky.warc.gz").read_bytes())
    data[40] ^= 0xFF  # the first member (the chunked page) is damaged; its copy at the end is intact
    (tmp_path / "in" / "tricky.warc.gz").write_bytes(bytes(data))
    (tmp_path / "home2").mkdir()
    second = CliRunner().invoke(cli, [*args[:2], "--home", str(tmp_path / "home2"), "--site", "news.example",
                                      "--no-extract", "-q"])
    assert second.exit_code == 1 and "damaged:" in second.output and "4 captures indexed" in second.output
    bad = CliRunner().invoke(cli, ["import", str(tmp_path / "in"), "--home", str(tmp_path / "h3"),
                                   "--url-pattern", "("])
    assert bad.exit_code == 2 and "--url-pattern" in bad.output


@pytest.fixture(params=["sqlite", "postgresql"])
def any_index(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ArchiveIndex]:
    from tests.pg import sqlite_and_postgresql_index

    yield from sqlite_and_postgresql_index(request, tmp_path)


def test_foreign_values_longer_than_the_columns(any_index: ArchiveIndex, tmp_path: Path) -> None:
    """Another tool's ids, digests and headers may be longer than ours: they fit (PostgreSQL enforces it)."""
    long_id = "<urn:example:" + "x" * 100 + ">"
    path = tmp_path / "long.warc.gz"
    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=True, warc_version="1.1")
        record = writer.create_warc_record(
            "https://long.example/page", "response", payload=io.BytesIO(PAGE),
            http_headers=_http("200 OK", [("Content-Type", "text/html; charset=utf-8"),
                                          ("Last-Modified", "Mon, 01 Jan 2024 00:00:00 GMT; " + "y" * 80),
                                          ("ETag", '"' + "e" * 300 + '"')]),
            warc_headers_dict={"WARC-Record-ID": long_id, "WARC-Payload-Digest": "sha256:" + "a" * 64,
                               "WARC-Truncated": "length-and-then-some-more-words-here-and-more"})
        writer.write_record(record)
    first = import_archives(any_index, tmp_path / "warcs", [path], ImportOptions(workers=0))
    again = import_archives(any_index, tmp_path / "warcs", [path], ImportOptions(workers=0))
    assert (first.captures, first.articles_ok, again.captures, again.duplicates) == (1, 1, 0, 1)
    with any_index.sessions() as s:
        capture = s.scalars(select(Capture)).one()
    assert len(capture.record_id) <= 64 and capture.record_id != long_id


def many_pages_warc(demo_sites: DemoServer, path: Path, pairs: int) -> int:
    """``pairs`` responses (request after each) of the demo site's pages, each with its own URL and text."""
    import urllib.request

    urls = demo_sites.urls(OUTLET)
    pages = []
    for url in [urls.home, *urls.sections.values(), *urls.articles.values()]:
        with urllib.request.urlopen(url, timeout=30) as response:
            pages.append(response.read())
    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=True, warc_version="1.1")
        for n in range(pairs):
            body = pages[n % len(pages)].replace(b"</p>", f" Copy {n}.</p>".encode(), 1)
            url = f"https://many.example/page/{n}"
            response = writer.create_warc_record(url, "response", payload=io.BytesIO(body),
                                                 http_headers=_http("200 OK", [("Content-Type", "text/html")]))
            writer.write_record(response)
            request = writer.create_warc_record(
                url, "request", payload=io.BytesIO(b""),
                http_headers=StatusAndHeaders(f"GET /page/{n} HTTP/1.1", [("Host", "many.example")],
                                              is_http_request=True),
                warc_headers_dict={"WARC-Concurrent-To": response.rec_headers.get_header("WARC-Record-ID")})
            writer.write_record(request)
    return pairs


@pytest.mark.slow
def test_killed_import_resumes(demo_sites: DemoServer, tmp_path: Path) -> None:
    import os
    import signal
    import time

    from newsarchive.archive.verify import verify_archive

    pairs = many_pages_warc(demo_sites, tmp_path / "many.warc.gz", 400)
    home = tmp_path / "home"
    command = [sys.executable, "-m", "newsarchive.cli.main", "import", str(tmp_path / "many.warc.gz"),
               "--home", str(home), "--workers", "1", "-q"]
    runner = "from newsarchive.cli.main import main; main()"
    proc = subprocess.Popen([sys.executable, "-c", runner, *command[3:]], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    index_path = home / "index.sqlite"
    deadline = time.monotonic() + 240
    committed = 0
    while time.monotonic() < deadline and proc.poll() is None:  # wait for a first committed batch
        if index_path.exists():
            import sqlite3

            try:
                with sqlite3.connect(index_path, timeout=5) as db:
                    committed = db.execute("select count(*) from captures").fetchone()[0]
            except sqlite3.OperationalError:
                committed = 0
            if committed:
                break
        time.sleep(0.05)
    if proc.poll() is not None:
        pytest.fail(f"the import ended before it could be killed: {proc.communicate()[1].decode()[-500:]}")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert 0 < committed < pairs
    assert list((home / "warcs").glob("newsarchive-import-*.open"))  # its metadata WARC was left open

    index = ArchiveIndex(f"sqlite:///{index_path}")
    before = len(index.articles(status=None))
    report = import_archives(index, home / "warcs", [tmp_path / "many.warc.gz"], ImportOptions(workers=1))
    assert report.duplicates >= committed and report.captures == pairs - report.duplicates
    with index.sessions() as s:
        ids = list(s.scalars(select(Capture.record_id)))
        linked = s.scalar(select(func.count()).where(Capture.request_record_id.is_not(None)))
    assert len(ids) == len(set(ids)) == pairs and linked == pairs
    assert len(index.articles(status=None)) == pairs and before <= pairs
    assert not list((home / "warcs").glob("*.open"))  # the killed run's metadata WARC was closed
    assert verify_archive(index, home / "warcs").problems == []
    index.close()


def test_export_with_warc_of_a_plain_imported_file(wget_warc: Path, tmp_path: Path,
                                                   home: tuple[ArchiveIndex, Path]) -> None:
    """A whole-file gzip WARC is kept decompressed: export --with-warc gives its records gzip members."""
    from newsarchive.archive.export import ExportOptions, export_dataset

    index, warc_dir = home
    whole = tmp_path / "whole.warc.gz"
    whole.write_bytes(gzip.compress(gzip.decompress(wget_warc.read_bytes())))
    report = import_archives(index, warc_dir, [whole], ImportOptions(workers=0))
    result = export_dataset(index, tmp_path / "export", ExportOptions(with_warc=True, progress=False),
                            warc_dir=warc_dir)
    assert result.rows == report.articles_ok > 0
    (name,) = result.warc_files
    items = list(scan(tmp_path / "export" / name))
    assert not [i for i in items if not isinstance(i, tuple)]  # every record whole, none damaged
    types = [i[1].rec_type for i in items if isinstance(i, tuple)]
    assert types.count("response") == result.rows and types.count("request") == result.rows
    assert types.count("metadata") == result.rows  # the import's metadata records travel with them


def test_versions_and_a_revisit_pointing_at_another_file(tmp_path: Path, home: tuple[ArchiveIndex, Path]) -> None:
    index, warc_dir = home
    url = "https://news.example/harbour"
    (tmp_path / "in").mkdir()
    with open(tmp_path / "in" / "a.warc.gz", "wb") as fh:
        first = WARCWriter(fh, gzip=True).create_warc_record(
            url, "response", payload=io.BytesIO(PAGE), http_headers=_http("200 OK", [("Content-Type", "text/html")]))
        WARCWriter(fh, gzip=True).write_record(first)
    changed = PAGE.replace(b"first ferries", b"first two ferries")
    with open(tmp_path / "in" / "b.warc.gz", "wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        revisit = writer.create_revisit_record(url, first.rec_headers.get_header("WARC-Payload-Digest"), url,
                                               first.rec_headers.get_header("WARC-Date"),
                                               http_headers=_http("200 OK", [("Content-Type", "text/html")]))
        revisit.rec_headers.add_header("WARC-Refers-To", first.rec_headers.get_header("WARC-Record-ID"))
        writer.write_record(revisit)
        writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(changed),
                                                      http_headers=_http("200 OK", [("Content-Type", "text/html")])))
    report = import_archives(index, warc_dir, [tmp_path / "in"], ImportOptions(workers=0))
    assert report.captures == 3 and report.articles_ok == 2
    versions = index.article_versions(url)
    assert [("two ferries" in v.text) for v in versions] == [False, True]  # a changed page is a new version
    lookup = ArchiveLookup(index, warc_dir)
    with index.sessions() as s:
        revisit_row = s.scalars(select(Capture).where(Capture.record_type == "revisit")).one()
    original = lookup.original(revisit_row)  # resolved into the other file
    assert original.warc_file.endswith("-a.warc.gz") and revisit_row.warc_file.endswith("-b.warc.gz")
    assert b"first ferries" in lookup.read(original).payload
