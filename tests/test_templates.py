"""Site-level template learning: learned from the index, stored in it, applied on later pages."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime
from itertools import count

import pytest

from newsarchive.archive.index import ArchiveIndex
from newsarchive.archive.models import Article, Capture
from newsarchive.demo.content import STORIES
from newsarchive.extract import learning
from newsarchive.extract.article import extract
from newsarchive.extract.learning import learn, load, save
from newsarchive.extract.templates import TemplateEntry, TemplateModel, fingerprint
from tests.pg import sqlite_and_postgresql_index

HOTLINE = "Unsere Redaktion erreichen Sie werktags von 8 bis 18 Uhr unter der Nummer 0800 123 456."
DISCLAIMER = "Alle Angaben ohne Gewähr, Irrtümer und Druckfehler bleiben ausdrücklich vorbehalten."
WIRE = ("Russland hat nach Beginn seines Angriffskriegs gegen die Ukraine die Beziehungen zum international "
        "isolierten Nordkorea wieder deutlich intensiviert.")
_ids = count(1)


@pytest.fixture(params=["sqlite", "postgresql"])
def index(request, tmp_path):
    yield from sqlite_and_postgresql_index(request, tmp_path)


def page(story, *, extra: tuple[str, ...] = (HOTLINE, DISCLAIMER)) -> str:
    """An article page whose template puts two service lines inside the article container."""
    paras = "".join(f"<p>{' '.join(p)}</p>" for p in story.paragraphs)
    service = "".join(f"<p>{line}</p>" for line in extra)
    return (f"<html lang=de><head><title>{story.title}</title></head><body><main><article>"
            f"<h1>{story.title}</h1><p>{' '.join(story.lead)}</p>{paras}<div class='info'>{service}</div>"
            f"</article></main></body></html>")


def add_article(index: ArchiveIndex, site: str, url: str, text: str) -> None:
    n = next(_ids)
    capture = Capture(url=url, canonical_url=url, host=site, status=200, fetched_at=datetime.now(UTC),
                      payload_digest=f"sha1:{n}", record_id=f"<urn:uuid:{n}>", warc_file="x.warc.gz",
                      warc_offset=0, warc_length=1)
    capture_id = index.add_capture(capture)
    index.add_article(Article(capture_id=capture_id, url=url, canonical_url=url, site=site, status="ok", text=text))


def archive_site(index: ArchiveIndex, site: str = "demo") -> None:
    for story in STORIES:
        url = f"https://{site}.example/{story.slug}"
        add_article(index, site, url, extract(page(story), url).text)


def test_generic_filters_alone_keep_the_service_lines():
    text = extract(page(STORIES[0]), "https://demo.example/a").text
    assert HOTLINE in text and DISCLAIMER in text


def test_learned_template_removes_site_chrome_on_later_pages(index):
    archive_site(index)
    model = learn(index, "demo", min_pages=3, min_share=0.5)
    assert {fingerprint(HOTLINE), fingerprint(DISCLAIMER)} <= model.lines
    story = STORIES[2]
    result = extract(page(story), "https://demo.example/new", template=model)
    assert HOTLINE not in result.text and DISCLAIMER not in result.text
    for sentence in story.body_sentences()[:3]:
        assert sentence in result.text
    assert result.extra["template_lines"] == 2


def test_no_model_below_min_pages(index):
    archive_site(index)
    assert not learn(index, "demo", min_pages=len(STORIES) + 1, min_share=0.1)


def test_versions_of_one_article_count_once(index):
    for version in range(4):
        add_article(index, "demo", "https://demo.example/same", f"{STORIES[0].lead[0]}\n{HOTLINE}\nv{version}")
    assert fingerprint(HOTLINE) not in learn(index, "demo", min_pages=2, min_share=0.1).lines


def test_wire_copy_on_another_site_is_story_text(index):
    for n in range(3):
        add_article(index, "demo", f"https://demo.example/{n}", f"{WIRE}\n{HOTLINE}\nStory {n} only.")
    add_article(index, "other", "https://other.example/1", f"Eigener Text.\n{WIRE}")
    model = learn(index, "demo", min_pages=2, min_share=0.5)
    assert fingerprint(HOTLINE) in model.lines
    assert fingerprint(WIRE) not in model.lines


def test_line_holding_most_of_the_page_stays():
    model = TemplateModel("demo", (TemplateEntry(fingerprint(HOTLINE), 9, HOTLINE),))
    assert model.filter(HOTLINE) == HOTLINE
    assert model.filter(f"{HOTLINE}\n{WIRE}\n{DISCLAIMER}") == f"{WIRE}\n{DISCLAIMER}"


def test_saved_model_loads_back_and_relearning_keeps_old_lines(index):
    archive_site(index)
    model = learn(index, "demo", min_pages=3, min_share=0.5)
    save(index, model)
    loaded = load(index, "demo")
    assert loaded == model and loaded.lines == model.lines and loaded.pages == len(STORIES)
    assert load(index, "nobody").lines == frozenset()
    assert learning.load_all(index) == {"demo": model}
    # pages extracted with the model no longer show its lines; a new learn must not forget them
    for n in range(3):
        add_article(index, "demo", f"https://demo.example/later-{n}", loaded.filter(f"Neu {n}.\n{HOTLINE}"))
    assert model.lines <= learn(index, "demo", min_pages=3, min_share=0.5).lines
    assert fingerprint(HOTLINE) in learn(index, "demo", min_pages=3, min_share=0.9,
                                                       fresh=False).lines


def test_model_is_picklable_for_worker_processes(index):
    archive_site(index)
    model = learn(index, "demo", min_pages=3, min_share=0.5)
    clone = pickle.loads(pickle.dumps(model))
    assert clone == model and clone.lines == model.lines


def test_fingerprint_ignores_case_spacing_and_punctuation():
    assert fingerprint("Alle Angaben  ohne Gewähr!") == fingerprint("alle angaben ohne gewähr")
    assert fingerprint("Alle Angaben ohne Gewähr") != fingerprint("Alle Angaben mit Gewähr")


def test_reextraction_applies_the_learned_template(index, tmp_path):
    from newsarchive.archive.warc import HttpExchange, WarcWriter
    from newsarchive.extract.reextract import ReextractOptions, reextract

    warcs = tmp_path / "warcs"
    with WarcWriter(warcs) as writer:
        for story in STORIES:
            url = f"https://demo.example/{story.slug}"
            html = page(story).encode("utf-8")
            rec = writer.write_exchange(HttpExchange(url, 200, [("Content-Type", "text/html; charset=utf-8")], html))
            capture_id = index.add_capture(Capture(
                url=url, canonical_url=url, host="demo.example", status=200, fetched_at=rec.fetched_at,
                payload_digest=rec.payload_digest, record_id=rec.record_id, warc_file=rec.ref.path,
                warc_offset=rec.ref.offset, warc_length=rec.ref.length))
            index.add_article(Article(capture_id=capture_id, url=url, canonical_url=url, site="demo",
                                      status="ok", text=extract(html, url).text))
    save(index, learn(index, "demo", min_pages=3, min_share=0.5))
    report = reextract(index, warcs, ReextractOptions(sites=("demo",)))
    assert (report.articles, report.changed, report.unreadable) == (len(STORIES), len(STORIES), 0)
    for article, story in zip(index.articles(site="demo"), STORIES, strict=True):
        assert HOTLINE not in article.text and DISCLAIMER not in article.text
        assert story.body_sentences()[-1] in article.text and article.word_count > 50
