"""Extraction fields added in issue 12: authors/agencies, image, tags, paywall flag, Markdown; and the guards
that keep the article's own paragraphs whatever their class names or visibility."""

from __future__ import annotations

import json

import pytest

from newsarchive.extract import chrome
from newsarchive.extract.article import extract
from newsarchive.extract.authors import split_credits

PARAS = [
    "Die Regierung hat am Montag neue Pläne für den Ausbau der Bahn vorgestellt, die bis 2030 umgesetzt werden.",
    "Vorgesehen sind zwölf zusätzliche Strecken im Osten des Landes sowie ein dichterer Takt im Nahverkehr.",
    "Der Verkehrsminister sprach in Wien von der größten Investition seit der Gründung der Bundesbahnen.",
    "Kritik kam von der Opposition, die eine Finanzierungslücke von mehreren Milliarden Euro befürchtet.",
    "Umweltverbände begrüßten den Schritt grundsätzlich, forderten aber einen schnelleren Ausstieg aus Diesel.",
    "Die ersten Bauarbeiten sollen im Frühjahr beginnen, zunächst an der Verbindung zwischen Linz und Graz.",
]


def norm(text: str) -> str:
    return " ".join(chrome.words(text))


def page(body: str, head: str = "") -> str:
    return f"<html lang='de'><head><title>Bahn baut aus | Testbote</title>{head}</head><body>{body}</body></html>"


def ld(node: dict[str, object]) -> str:
    return f"<script type='application/ld+json'>{json.dumps({'@context': 'https://schema.org', **node})}</script>"


def article(p_attrs: str = "", wrapper: str = "div class='body'") -> str:
    tag = wrapper.split()[0]
    paras = "".join(f"<p {p_attrs}>{p}</p>" for p in PARAS)
    return f"<article><h1>Bahn baut aus</h1><{wrapper}>{paras}</{tag}></article>"


# -- credits ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("raw", "authors", "agencies"), [
    (["Von Anna Muster und Max Beispiel, dpa"], ("Anna Muster", "Max Beispiel"), ("dpa",)),
    (["By JANE ROE (jane.roe@example.com)"], ("Jane Roe",), ()),
    (["Erika Muster (em)"], ("Erika Muster",), ()),
    (["Text: Anna Muster/APA"], ("Anna Muster",), ("APA",)),
    (["Jane Doe and John Roe, Reuters"], ("Jane Doe", "John Roe"), ("Reuters",)),
    (["The Associated Press"], (), ("AP",)),
    (["Maria Müller (dpa)", "Maria Müller"], ("Maria Müller",), ("dpa",)),
    (["Redaktion", "https://example.com/autor/x", "@handle"], (), ()),
    (["Vom Max Muster", "Erika Leserin says"], ("Max Muster",), ()),
])
def test_split_credits(raw, authors, agencies):
    assert split_credits(raw) == (authors, agencies)


def test_role_words_and_the_publication_trail_off_a_name():
    from lxml.html import fromstring

    from newsarchive.extract.authors import page_credits

    tree = fromstring("<html><body><p>x</p></body></html>")
    assert page_credits([["Adam Roe Testbote Staff", "Testbote"]], tree, ["Testbote"]) == (("Adam Roe",), ())
    # JSON-LD names only the publication: the author meta is read next
    assert page_credits([["Testbote"], ["Erika Muster (dpa)"]], tree, ["Testbote"]) == (("Erika Muster",), ("dpa",))


def test_declared_authors_are_split_and_agencies_kept_apart():
    head = ld({"@type": "NewsArticle", "headline": "Bahn baut aus",
               "author": [{"@type": "Person", "name": "Anna Muster und Max Beispiel"}, {"name": "APA"}]})
    got = extract(page(article(), head), "https://testbote.example/bahn")
    assert got.authors == ("Anna Muster", "Max Beispiel") and got.agencies == ("APA",)
    assert got.author == "Anna Muster; Max Beispiel"


def test_visible_byline_when_nothing_is_declared():
    byline = ("<div class='byline'>Von <span itemprop='author'><span itemprop='name'>Erika Muster</span></span>"
              " und <span itemprop='author'><span itemprop='name'>Max Beispiel</span></span> (dpa)</div>")
    got = extract(page(article().replace("</h1>", f"</h1>{byline}")), "https://testbote.example/bahn")
    assert got.authors == ("Erika Muster", "Max Beispiel")


def test_rel_author_links_of_a_teaser_list_elsewhere_are_not_authors():
    byline = "<p class='meta'>Von <a rel='author' href='/a/em'>Erika Muster</a></p>"
    teasers = "".join(f"<div class='teaser'><div><a rel='author' href='/a/{n}'>Autor Nummer{n}</a></div></div>"
                      for n in "abc")
    got = extract(page(article().replace("</h1>", f"</h1>{byline}") + f"<section>{teasers}</section>"),
                  "https://testbote.example/bahn")
    assert got.authors == ("Erika Muster",)


def test_the_publication_is_the_credit_only_when_no_person_is_named():
    head = ld({"@type": "NewsArticle", "author": {"@type": "Organization", "name": "Testbote"},
               "publisher": {"@type": "Organization", "name": "Testbote"}})
    assert extract(page(article(), head), "https://testbote.example/bahn").authors == ("Testbote",)
    byline = "<div class='byline'>Von <a rel='author' href='/a/em'>Erika Muster</a></div>"
    got = extract(page(article().replace("</h1>", f"</h1>{byline}"), head), "https://testbote.example/bahn")
    assert got.authors == ("Erika Muster",)


# -- declared fields ----------------------------------------------------------------------------------------
def test_image_tags_and_paywall_from_what_the_page_declares():
    head = ("<meta property='og:image' content='/img/bahn.jpg'><meta property='article:tag' content='Bahn'>"
            "<meta property='article:tag' content='Verkehr'><meta name='keywords' content='Bahn, Wien , Linz'>"
            + ld({"@type": "NewsArticle", "keywords": ["Graz"], "isAccessibleForFree": "False"}))
    got = extract(page(article(), head), "https://testbote.example/2024/bahn")
    assert got.image_url == "https://testbote.example/img/bahn.jpg"
    assert got.tags == ("Bahn", "Verkehr", "Wien", "Linz", "Graz")
    assert got.paywalled is True


@pytest.mark.parametrize(("declared", "want"), [(True, False), (False, True), ("true", False), (None, None)])
def test_paywalled_follows_is_accessible_for_free(declared, want):
    node: dict[str, object] = {"@type": "NewsArticle", "image": {"@type": "ImageObject", "url": "https://cdn.example/a.jpg"}}
    if declared is not None:
        node["isAccessibleForFree"] = declared
    got = extract(page(article(), ld(node)), "https://testbote.example/bahn")
    assert got.paywalled is want and got.image_url == "https://cdn.example/a.jpg"


def test_nothing_declared_means_empty_fields():
    got = extract(page(article()), "https://testbote.example/bahn")
    assert (got.image_url, got.tags, got.paywalled, got.authors, got.agencies) == (None, (), None, (), ())


def test_markdown_keeps_headings_paragraphs_and_lists():
    body = (f"<article><h1>Bahn baut aus</h1><p>{PARAS[0]}</p><p>{PARAS[1]}</p><h2>Kritik der Opposition</h2>"
            f"<p>{PARAS[2]}</p><ul><li>Linz nach Graz in zwei Stunden</li><li>Wien nach Linz im Halbstundentakt</li>"
            f"</ul><p>{PARAS[3]}</p><p>{PARAS[4]}</p></article>")
    got = extract(page(body), "https://testbote.example/bahn")
    md = got.markdown
    assert "## Kritik der Opposition" in md.splitlines()
    assert "- Linz nach Graz in zwei Stunden\n- Wien nach Linz im Halbstundentakt" in md
    assert f"{PARAS[0]}\n\n{PARAS[1]}" in md
    assert norm(md) == norm(got.text)  # the same lines as the text, only marked up


# -- guards: class names and visibility never drop the article's own paragraphs -------------------------------
@pytest.mark.parametrize("attrs", ["class='paywall'", "class='print:max-w-none text-lg'", "class='para ad-free'",
                                   "class='article-body__ad'", "hidden", "style='display: none'"])
def test_main_text_paragraphs_survive_their_class_or_visibility(attrs):
    teaser = "<div class='related'><p>Mehr aus Wien: <a href='/x'>Neue Tunnel</a></p></div>"
    got = extract(page(article(attrs) + teaser), "https://testbote.example/bahn")
    assert got.extra["method"] == "cleaned"  # kept by the cleaning itself, not by the over-cleaning fallback
    assert all(norm(p) in norm(got.text) for p in PARAS), got.text
    assert "Neue Tunnel" not in got.text


def test_article_in_containers_named_like_a_sidebar_is_kept():
    half = len(PARAS) // 2
    first = "".join(f"<p>{p}</p>" for p in PARAS[:half])
    second = "".join(f"<p>{p}</p>" for p in PARAS[half:])
    body = (f"<main><h1>Bahn baut aus</h1><div class='sidebar-grid__content'>{first}</div>"
            "<div class='ad-slot'>Anzeige</div>"
            f"<div class='sidebar-grid__content'>{second}</div></main>")
    got = extract(page(body), "https://testbote.example/bahn")
    assert got.extra["method"] == "cleaned" and all(norm(p) in norm(got.text) for p in PARAS)
    assert "Anzeige" not in got.text


def test_newsletter_box_inside_the_article_still_goes():
    box = ("<div class='newsletter-signup'><p>Der Newsletter am Morgen bringt Ihnen jeden Tag die wichtigsten "
           "Nachrichten aus der Region.</p><form><input name='email'><button>Los</button></form></div>")
    got = extract(page(article().replace("</div></article>", f"{box}</div></article>")), "https://testbote.example/b")
    assert all(norm(p) in norm(got.text) for p in PARAS) and "Newsletter am Morgen" not in got.text


def test_hidden_teaser_outside_the_article_goes():
    hidden = "<div hidden><p>Versteckter Hinweis für Leser ohne Skripte, bitte aktivieren Sie JavaScript jetzt.</p></div>"
    got = extract(page(article() + hidden), "https://testbote.example/bahn")
    assert "Versteckter Hinweis" not in got.text


def test_furniture_is_found_outermost_first_and_after_what_already_went():
    """find_chrome names the outermost furniture only (what lies inside it is passed over), and furniture
    after a dropped element, beside it or inside the same parent, is still found."""
    import lxml.html

    rail = ("<aside class='rail'><div class='share-tools'><ul class='social-links'><li><a href='/x'>X</a></li>"
            "<li><a href='/y'>Y</a></li></ul></div><p class='promo'>Abo</p></aside>")
    after = "<div class='newsletter'>Der Newsletter</div><section><div class='promo-box'>Jetzt testen</div></section>"
    root = lxml.html.fromstring(page(article() + rail + after))
    doomed = chrome.find_chrome(root)
    names = [el.get("class") for el in doomed]
    assert names == ["rail", "newsletter", "promo-box"]


def test_utility_variant_prefix_is_not_a_name_token():
    assert chrome.name_tokens("print:max-w-none md:text-lg") == ["max", "w", "none", "text", "lg"]
    assert chrome.is_chrome_name("md:newsletter-box") and not chrome.is_chrome_name("print:max-w-none")


def test_byline_by_class_when_nothing_is_marked_up():
    byline = "<div class='byline'>By Jane Roe and John Doe, Reuters</div>"
    got = extract(page(article().replace("</h1>", f"</h1>{byline}")), "https://testbote.example/bahn")
    assert got.authors == ("Jane Roe", "John Doe") and got.agencies == ("Reuters",)
    assert "Jane Roe" not in got.text


def test_one_trafilatura_pass_per_page(monkeypatch):
    import newsarchive.extract.article as module

    calls = []
    real = module.trafilatura_sequence

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, "trafilatura_sequence", counting)
    got = extract(page(article()), "https://testbote.example/bahn")
    assert got.ok and got.extra["method"] == "cleaned" and len(calls) == 1


def test_markdown_of_a_restored_subheading():
    from newsarchive.extract.article import to_markdown

    lines = [PARAS[0], "Kritik der Opposition", "- erster Punkt", "- zweiter Punkt", PARAS[1]]
    rendered = {norm(PARAS[0]): PARAS[0], norm("- erster Punkt"): "- erster Punkt", norm("- zweiter Punkt"): "- zweiter Punkt"}
    md = to_markdown(lines, rendered, {norm("Kritik der Opposition")})
    assert md == f"{PARAS[0]}\n\n## Kritik der Opposition\n\n- erster Punkt\n- zweiter Punkt\n\n{PARAS[1]}"


def test_subheading_among_the_main_paragraphs_survives_its_class():
    body = (f"<article><h1>Bahn baut aus</h1><div class='body'><p>{PARAS[0]}</p><p>{PARAS[1]}</p>"
            f"<h2 class='subheadline'>Kritik der Opposition</h2><p>{PARAS[2]}</p><p>{PARAS[3]}</p></div>"
            "<h2 class='subheadline'>Alle Meldungen aus Wien</h2></article>")
    got = extract(page(body), "https://testbote.example/bahn")
    assert "Kritik der Opposition" in got.text.splitlines()


def test_precision_pass_far_below_the_main_paragraphs_is_redone_without_precision(monkeypatch):
    import newsarchive.extract.article as module

    real = module._trafilatura_body
    modes = []

    def shy_precision(tree, url, options, *rest):
        modes.append(options.favor_precision)
        text, rendered = real(tree, url, options, *rest)
        return (text.splitlines()[0], rendered) if options.favor_precision else (text, rendered)

    monkeypatch.setattr(module, "_trafilatura_body", shy_precision)
    paras = "".join(f"<p>{p}</p>" for p in PARAS * 3)  # enough main-text words for the check
    got = extract(page(f"<article><h1>Bahn baut aus</h1><div class='body'>{paras}</div></article>"),
                  "https://testbote.example/bahn")
    assert modes == [True, False] and got.extra["method"] == "cleaned-recall"
    assert all(norm(p) in norm(got.text) for p in PARAS)


def test_text_is_unicode_nfc_like_trafilatura_returns_it():
    import unicodedata

    decomposed = [unicodedata.normalize("NFD", p) for p in PARAS]
    got = extract(page("<article>" + "".join(f"<p>{p}</p>" for p in decomposed) + "</article>"),
                  "https://testbote.example/bahn")
    assert decomposed[0] != PARAS[0] and PARAS[0] in got.text and PARAS[0] in got.markdown
