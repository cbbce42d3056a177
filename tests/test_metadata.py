"""Metadata choices on small synthetic pages: the credit when no person is named, the headline the sources
agree on, the logo heading, the publisher's local day and the URL's day."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from lxml.html import fromstring

from newsarchive.extract.authors import DiscardedAreas, house_credit, page_credits
from newsarchive.extract.metadata import in_local_time, on_url_day, page_metadata, parse_date, url_day

URL = "https://testbote.example/politik/rathaus"


def ld(node: dict[str, object]) -> str:
    return f"<script type='application/ld+json'>{json.dumps({'@context': 'https://schema.org', **node})}</script>"


def meta_of(body: str, head: str = "", url: str = URL):
    return page_metadata(fromstring(f"<html><head>{head}</head><body>{body}</body></html>"), url)


# -- credits ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("raw", "want"), [
    (["Redaktion"], "Redaktion"),
    (["Artikel von hausinfo"], "hausinfo"),
    (["Testbote (tb) redaktion@testbote.example"], "Testbote"),
    (["admin", "Unknown"], None),
    (["Agenturen"], None),
    (["Erika Leserin says"], None),
])
def test_house_credit(raw, want):
    assert house_credit(raw) == want


def test_a_person_anywhere_beats_the_house_credit():
    tree = fromstring("<html><body><p class='byline'>Von <a rel='author' href='/a/am'>Anna Muster</a></p></body></html>")
    assert page_credits([["Testbote"]], tree, ["Testbote"]) == (("Anna Muster",), ())


def test_the_desk_is_the_credit_when_no_one_is_named():
    tree = fromstring("<html><body><p>Kein Name</p></body></html>")
    assert page_credits([["Redaktion"]], tree, ["Testbote"]) == (("Redaktion",), ())
    assert page_credits([["Testbote"], ["Redaktion"]], tree, ["Testbote"]) == (("Testbote",), ())


def test_an_agency_is_the_credit_before_the_house():
    tree = fromstring("<html><body><p>Kein Name</p></body></html>")
    assert page_credits([["Testbote", "dpa"]], tree, ["Testbote"]) == ((), ("dpa",))


def test_a_one_person_blog_named_after_its_author():
    head = ld({"@type": "BlogPosting", "author": {"@type": "Person", "name": "Anna Muster"},
               "publisher": {"@type": "Person", "name": "Anna Muster"}})
    assert meta_of("<p>x</p>", head).authors == ("Anna Muster",)


# -- title --------------------------------------------------------------------------------------------------
def test_kicker_in_its_own_element_is_not_part_of_the_headline():
    head = "<meta property='og:title' content='Neuer Bürgermeister gewählt'><title>Neuer Bürgermeister gewählt | Testbote</title>"
    body = "<h1><span class='kicker'>Rathaus</span><span>Neuer Bürgermeister gewählt</span></h1>"
    assert meta_of(body, head).title == "Neuer Bürgermeister gewählt"


def test_kicker_before_a_separator_is_not_part_of_the_headline():
    head = ld({"@type": "NewsArticle", "headline": "Neuer Bürgermeister gewählt"})
    assert meta_of("<h1>Politik : Neuer Bürgermeister gewählt</h1>", head).title == "Neuer Bürgermeister gewählt"


def test_an_h1_that_is_a_declared_form_stays_whole():
    head = ld({"@type": "NewsArticle", "headline": "Rathaus: Neuer Bürgermeister gewählt"})
    body = "<h1><span>Rathaus:</span> <span>Neuer Bürgermeister gewählt</span></h1>"
    assert meta_of(body, head).title == "Rathaus: Neuer Bürgermeister gewählt"


def test_the_visible_headline_when_no_part_is_declared():
    head = "<title>Neuer Bürgermeister im Rathaus gewählt | Testbote</title>"
    assert meta_of("<h1>Neuer Bürgermeister gewählt</h1>", head).title == "Neuer Bürgermeister gewählt"


def test_a_logo_heading_linking_home_is_the_site_name_not_the_headline():
    head = "<title>Neuer Bürgermeister gewählt | Liebe Grüße aus dem Rathaus</title>"
    body = ("<h1><a href='https://testbote.example/'>Liebe Grüße aus dem Rathaus</a></h1>"
            "<h2>Neuer Bürgermeister gewählt</h2>")
    assert meta_of(body, head).title == "Neuer Bürgermeister gewählt"


def test_a_heading_linking_to_the_article_is_the_headline():
    head = "<title>Neuer Bürgermeister gewählt | Testbote</title>"
    body = f"<h1><a href='{URL}'>Neuer Bürgermeister gewählt</a></h1>"
    assert meta_of(body, head).title == "Neuer Bürgermeister gewählt"


# -- dates --------------------------------------------------------------------------------------------------
def test_rfc_2822_dates_parse():
    assert parse_date("Sat, 19 Oct 2019 00:04:00 +0200") == datetime(2019, 10, 18, 22, 4, tzinfo=UTC)


def test_utc_time_is_shown_in_the_offset_another_source_gives():
    head = ld({"@type": "NewsArticle", "datePublished": "2023-11-09T05:30:00Z"})
    head += "<meta name='date' content='2023-11-08T23:30:00-06:00'>"
    got = meta_of("<p>x</p>", head).published
    assert got is not None and got.date() == date(2023, 11, 8) and got.utcoffset() == timedelta(hours=-6)
    assert got == datetime(2023, 11, 9, 5, 30, tzinfo=UTC)  # the same instant


def test_a_naive_local_time_of_the_same_instant_gives_the_offset():
    moment = datetime(2023, 11, 9, 5, 30, 59, tzinfo=UTC)
    local = in_local_time(moment, ["2023-11-08 23:30:59"])
    assert local == moment and local.utcoffset() == timedelta(hours=-6)


@pytest.mark.parametrize("other", ["2023-11-08", "2023-11-09 06:21:49", "2023-11-09T05:30:59Z", None, "bald"])
def test_other_times_do_not_change_the_offset(other):
    moment = datetime(2023, 11, 9, 5, 30, 59, tzinfo=UTC)
    assert in_local_time(moment, [other]).utcoffset() == timedelta(0)


def test_a_declared_offset_is_kept():
    moment = datetime(2023, 11, 9, 8, 0, tzinfo=datetime.fromisoformat("2023-11-09T08:00+02:00").tzinfo)
    assert in_local_time(moment, ["2023-11-09 07:00:00"]) is moment


@pytest.mark.parametrize(("url", "want"), [
    ("https://testbote.example/2019/10/22/rathaus/", date(2019, 10, 22)),
    ("https://testbote.example/2019/10/22", date(2019, 10, 22)),
    ("https://testbote.example/2019/13/22/rathaus", None),
    ("https://testbote.example/2019/10/rathaus", None),
    ("https://testbote.example/a/2019/10/225", None),
])
def test_url_day(url, want):
    assert url_day(url) == want


def test_the_url_day_beats_a_time_element_far_from_it():
    body = "<aside><time datetime='2009-04-11 18:06:36'>11. April 2009</time></aside><p>x</p>"
    got = meta_of(body, url="https://testbote.example/2019/10/22/rathaus/")
    assert got.published == datetime(2019, 10, 22, tzinfo=UTC) and got.date_source == "url"


def test_a_declared_date_beats_the_url_day():
    head = ld({"@type": "NewsArticle", "datePublished": "2019-10-25T10:00:00+02:00"})
    got = meta_of("<p>x</p>", head, url="https://testbote.example/2019/10/22/rathaus/")
    assert got.published is not None and got.published.date() == date(2019, 10, 25) and got.date_source == "json-ld"


def test_a_utc_time_the_day_after_the_url_day_is_shown_on_that_day():
    moment = datetime(2020, 2, 25, 2, 25, tzinfo=UTC)
    local = on_url_day(moment, date(2020, 2, 24))
    assert local == moment and local.date() == date(2020, 2, 24) and local.utcoffset() == timedelta(hours=-3)
    early = on_url_day(datetime(2020, 2, 23, 22, 0, tzinfo=UTC), date(2020, 2, 24))
    assert early.date() == date(2020, 2, 24) and early.utcoffset() == timedelta(hours=2)


@pytest.mark.parametrize(("moment", "day"), [
    (datetime(2020, 2, 25, 14, 0, tzinfo=UTC), date(2020, 2, 24)),  # no offset of 15 h exists
    (datetime(2020, 2, 27, 2, 0, tzinfo=UTC), date(2020, 2, 24)),  # days apart: a different date
    (datetime.fromisoformat("2020-02-25T02:25:00+01:00"), date(2020, 2, 24)),  # the offset is declared
])
def test_the_url_day_leaves_other_times_alone(moment, day):
    assert on_url_day(moment, day) is moment


# -- a byline found by its wording ---------------------------------------------------------------------------
@pytest.mark.parametrize(("body", "want"), [
    ("<h1>Rathaus</h1><p class='x'>06.11.2023 13:30 von Anna Muster</p><p>Text</p>", ("Anna Muster",)),
    ("<h1>Rathaus</h1><div><i>By Jane Roe and John Doe</i></div>", ("Jane Roe", "John Doe")),
    ("<h1>Rathaus</h1><h2>Von Tunis nach Teheran</h2><p>Von Wien und Linz</p>", ()),  # heading; not all names
    ("<ul><li><a href='/w'>Von Wiener Walzer und Mozartkugeln</a></li></ul><p>x</p>", ()),  # a menu link
    ("<p>Von der Stadt bezahlt.</p>", ()),
])
def test_a_short_line_that_reads_like_a_byline(body, want):
    assert meta_of(body).authors == want


# -- a link to the author's own page --------------------------------------------------------------------------
@pytest.mark.parametrize(("body", "want"), [
    # blog, CMS and forum URL conventions; co-authors of the same byline
    ("<h1>Rathaus</h1><div class='meta'><a href='/author/jroe/'>Jane Roe</a></div><p>Text</p>", ("Jane Roe",)),
    ("<div class='x'><span><a href='/autor/anna-muster'>Anna Muster</a> und "
     "<a href='/autor/max-beispiel'>Max Beispiel</a></span></div>", ("Anna Muster", "Max Beispiel")),
    ("<p>Gepostet von <a href='https://testbote.example/members/hans.210716/'>Hans Ehrlich</a></p>", ("Hans Ehrlich",)),
    # not a credit: navigation, footers, comments, a slug that merely contains the word, a link that is no name
    ("<nav><a href='/autoren/'>Unsere Autoren</a></nav><footer><a href='/author/x'>Erika Muster</a></footer>", ()),
    ("<div class='comments'><a href='/members/lea/'>Lea Leserin</a></div><p>Text</p>", ()),
    ("<p><a href='/2024/bestseller-autor-jane-roe.html'>Jane Roe</a></p>", ()),
    ("<p><a href='/author/x'>https://testbote.example</a></p>", ()),
])
def test_a_link_to_the_authors_page_names_the_author(body, want):
    assert meta_of(body).authors == want


def test_a_byline_search_that_names_no_one_does_not_hide_the_link():
    body = ("<div class='post-author'>Erika Leserin says</div>"  # a comment's heading, found by its class name
            "<p class='info'><a href='/profile/MatsMuster'>Mats Muster</a></p>")
    assert meta_of(body).authors == ("Mats Muster",)


def test_a_layout_named_after_its_sidebar_is_not_a_sidebar():
    # trafilatura's byline search skips "sidebar" containers; this one holds the headline and the byline
    body = ("<div class='layout-container has-sidebar'><h1>Rathaus</h1>"
            "<div class='meta'><a href='/autor/jil-muster'>Jil Muster</a></div><p>Text</p>"
            "<div class='sidebar'><a href='/autor/max-beispiel'>Max Beispiel</a></div></div>")
    assert meta_of(body).authors == ("Jil Muster",)


def test_discarded_areas_asked_of_ancestors_are_those_found_in_the_whole_page():
    page = fromstring(
        "<html><body><div class='layout-container has-sidebar'><h1>Rathaus</h1>"
        "<div class='meta'><a id='byline' href='/autor/jil'>Jil</a><time>heute</time></div>"
        "<section id='comments-box'><div><p><a id='reader' href='/autor/lea'>Lea</a></p></div></section>"
        "<figure><span class='author'>Foto: Max</span></figure>"
        "<div class='sidebar'><div class='comments'><a id='max' href='/autor/max'>Max</a></div></div>"
        "<span class='print-only'>Druck</span></div></body></html>")
    asked, matched = DiscardedAreas(page), DiscardedAreas(page)
    matched._tests = None  # the page-wide match, used when an expression is no test of ancestors
    for el in page.iter():
        assert (el in asked) == (el in matched), (el.tag, el.attrib)
    inside = {el.get("id") or el.get("class") or el.tag for el in page.iter() if el in asked}
    assert {"reader", "max", "time", "author", "print-only"} <= inside
    assert not {"byline", "meta", "h1", "layout-container has-sidebar"} & inside


def test_a_declared_person_beats_an_author_link():
    head = ld({"@type": "NewsArticle", "author": {"@type": "Person", "name": "Anna Muster"}})
    assert meta_of("<p><a href='/author/jroe'>Jane Roe</a></p>", head).authors == ("Anna Muster",)


@pytest.mark.parametrize(("title", "want"), [
    ("Neuer Bürgermeister gewählt | Testbote | Seit 1901 aus Linz", "Neuer Bürgermeister gewählt"),
    ("Testbote - Politik - Neuer Bürgermeister gewählt", "Politik - Neuer Bürgermeister gewählt"),
    ("Testbote | Neuer Bürgermeister gewählt | Testbote", "Neuer Bürgermeister gewählt"),
])
def test_title_without_the_site_name_and_its_tagline(title, want):
    from newsarchive.extract.metadata import clean_title

    assert clean_title(title, ["Testbote", "testbote.example"]) == want


def test_the_separator_after_a_kicker_is_not_part_of_the_headline():
    head = ld({"@type": "NewsArticle", "headline": "Neuer Bürgermeister gewählt"})
    body = "<h1><span>Rathaus</span><span> : </span>Neuer Bürgermeister gewählt</h1>"
    assert meta_of(body, head).title == "Neuer Bürgermeister gewählt"
