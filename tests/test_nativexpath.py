"""trafilatura's XPath expressions without regex callbacks select exactly what trafilatura's own select."""

from __future__ import annotations

import random
import re
import threading

import lxml.html
import pytest
from lxml.etree import XPath
from trafilatura import xpaths

from newsarchive.demo import render
from newsarchive.demo.content import STORIES
from newsarchive.extract.article import extract
from newsarchive.extract.nativexpath import (
    _trafilatura_lists,
    ancestral,
    literal_words,
    native,
    native_path,
    trafilatura_native,
)

RE_TEST = re.compile(r"re:test\(\s*@[\w:-]+\s*,\s*'([^']*)'\s*\)")


def trafilatura_patterns() -> list[str]:
    return sorted({m.group(1) for lst in _trafilatura_lists() for e in lst for m in RE_TEST.finditer(e.path)})


def matches(words: list[tuple[bool, str]], text: str) -> bool:
    return any(text.startswith(w) if anchored else w in text for anchored, w in words)


@pytest.mark.parametrize(("pattern", "expected"), [
    ("author", [(False, "author")]),
    ("^[Cc]omments|x-?y", [(True, "Comments"), (True, "comments"), (False, "x-y"), (False, "xy")]),
    ("(?:^| )ad-|post[-_]text", [(True, "ad-"), (False, " ad-"), (False, "post-text"), (False, "post_text")]),
    ("article-(?:share|support)", [(False, "article-share"), (False, "article-support")]),
    (r"a\.b", [(False, "a.b")]),
])
def test_finite_patterns_become_their_words(pattern: str, expected: list[tuple[bool, str]]) -> None:
    assert literal_words(pattern) == expected


@pytest.mark.parametrize("pattern", ["a.b", "a*", "a+", "[a-z]", "[^a]", "a{2}", "a$", "(a|b)", "x(?:^a)", r"\d",
                                     "(?i)a", "a'b", "[a-c]", "x(?!y)", "[abcdefgh][abc]"])
def test_other_patterns_stay_regular_expressions(pattern: str) -> None:
    assert literal_words(pattern) is None
    path = f"//*[re:test(@class, '{pattern}')]" if "'" not in pattern else "//*[re:test(@class, 'a*')]"
    assert "re:test" in native_path(path)


def test_trafilatura_has_patterns_this_rewrites() -> None:
    """The speed-up is real only while trafilatura writes its patterns as words; this fails if it stops."""
    patterns = trafilatura_patterns()
    assert len([p for p in patterns if literal_words(p) is not None]) >= 10


@pytest.mark.parametrize("pattern", trafilatura_patterns())
def test_words_agree_with_the_regular_expression(pattern: str) -> None:
    words = literal_words(pattern)
    if words is None:  # lookaheads, or more words than one regex callback costs: trafilatura's own test stays
        assert native_path(f"//*[re:test(@class, '{pattern}')]") == f"//*[re:test(@class, '{pattern}')]"
        return
    rng = random.Random(pattern)
    samples = ["", "x"]
    for _anchored, word in words:
        samples += [word, word.upper(), word[:-1], word[1:], f"a {word}", f"{word}-b", f"pre{word}post"]
        samples += [word.swapcase(), word.replace("-", "")]
    alphabet = sorted({c for _a, w in words for c in w} | {" ", "-", "X"})
    samples += ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12))) for _ in range(300)]
    for text in samples:
        assert matches(words, text) == (re.search(pattern, text) is not None), (pattern, text)


def page_hitting_every_word() -> lxml.html.HtmlElement:
    """Elements of the tags trafilatura asks for, whose class and id hold each word of each pattern in many
    positions and cases; plus the demo outlets' pages."""
    attrs = set()
    for pattern in trafilatura_patterns():
        for _anchored, word in literal_words(pattern) or []:
            attrs |= {word, f"x {word}", f"{word}-y", word.upper(), word.capitalize(), word[:-1], f" {word}"}
    tags = ["a", "address", "div", "link", "p", "span", "strong", "h3", "h4", "section", "aside", "footer", "ul",
            "li", "nav", "header", "article", "main", "figure", "time", "em", "b", "i", "font", "table", "tr", "td"]
    parts = []
    for i, value in enumerate(sorted(attrs)):
        tag = tags[i % len(tags)]
        parts.append(f'<div><{tag} class="{value}">t {i}</{tag}><{tag} id="{value}">u {i}</{tag}>'
                     f'<{tag} data-component="{value}" itemprop="{value}">v</{tag}></div>')
    return lxml.html.fromstring("<html><body><article>" + "".join(parts) + "</article></body></html>")


def nested_page() -> lxml.html.HtmlElement:
    """The values of :func:`page_hitting_every_word` on elements nested in one another: areas inside areas."""
    values = sorted({el.get("class") or el.get("id") for el in page_hitting_every_word().iter()} - {None})
    tags = ["div", "span", "section", "a", "p", "aside", "time", "figure", "h1", "article"]
    opening = "".join(f'<{tags[i % len(tags)]} {"class" if i % 3 else "id"}="{v}">x{i} '
                      for i, v in enumerate(values[:300]))
    closing = "".join(f"</{tags[i % len(tags)]}>" for i in reversed(range(min(300, len(values)))))
    return lxml.html.fromstring(f"<html><body><h1>Headline</h1>{opening}{closing}</body></html>")


def pages() -> list[lxml.html.HtmlElement]:
    demo = [lxml.html.fromstring(render.render_article(story.outlet, story, base_url="http://127.0.0.1:1")) for story in STORIES]
    return [page_hitting_every_word(), nested_page(), *demo]


def test_rewritten_expressions_select_the_same_elements() -> None:
    rewritten = 0
    for expressions in _trafilatura_lists():
        for expression in expressions:
            fast = native(expression)
            if fast is expression:
                continue
            rewritten += 1
            assert "re:test" not in fast.path or fast.path.count("re:test") < expression.path.count("re:test")
            for page in pages():
                for context in (page, page.find("body")):
                    assert fast(context) == expression(context), expression.path
    assert rewritten >= 10


def test_the_swap_lasts_for_the_block_only() -> None:
    own = {id(lst): list(lst) for lst in _trafilatura_lists()}
    with trafilatura_native():
        inside = [e for lst in _trafilatura_lists() for e in lst]
        with trafilatura_native():  # nested: the outer block's swap stands
            assert [e for lst in _trafilatura_lists() for e in lst] == inside
        assert [e for lst in _trafilatura_lists() for e in lst] == inside
        assert any(e not in own[id(lst)] for lst in _trafilatura_lists() for e in lst)
    assert {id(lst): list(lst) for lst in _trafilatura_lists()} == own
    assert xpaths.BODY_XPATH == own[id(xpaths.BODY_XPATH)]


def test_the_swap_is_undone_when_the_block_raises() -> None:
    own = [list(lst) for lst in _trafilatura_lists()]
    with pytest.raises(RuntimeError), trafilatura_native():
        raise RuntimeError("boom")
    assert [list(lst) for lst in _trafilatura_lists()] == own


def test_concurrent_blocks_leave_trafilatura_its_own() -> None:
    own = [list(lst) for lst in _trafilatura_lists()]
    barrier = threading.Barrier(4)

    def run() -> None:
        with trafilatura_native():
            barrier.wait(timeout=60)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert [list(lst) for lst in _trafilatura_lists()] == own


def test_extraction_is_the_same_with_trafilatura_own_expressions(monkeypatch: pytest.MonkeyPatch) -> None:
    html = [render.render_article(story.outlet, story, base_url="http://127.0.0.1:1") for story in STORIES]
    fast = [extract(h, "http://127.0.0.1:1/a") for h in html]
    monkeypatch.setattr("newsarchive.extract.nativexpath.native", lambda expression: expression)
    slow = [extract(h, "http://127.0.0.1:1/a") for h in html]
    assert [(e.text, e.title, e.authors, e.published) for e in fast] == \
        [(e.text, e.title, e.authors, e.published) for e in slow]
    assert all(e.status == "ok" for e in fast)


def test_xpath_objects_keep_their_namespace() -> None:
    expression = XPath("//*[re:test(@class, 'a.c') or re:test(@id, 'author')]",
                       namespaces={"re": "http://exslt.org/regular-expressions"})
    fast = native(expression)
    page = lxml.html.fromstring('<div><p class="abc">1</p><p id="xauthor">2</p><p class="ac">3</p></div>')
    assert "re:test(@class" in fast.path and "re:test(@id" not in fast.path
    assert [p.text for p in fast(page)] == [p.text for p in expression(page)] == ["1", "2"]


def test_an_expression_of_the_whole_page_becomes_a_test_of_an_element_s_ancestors() -> None:
    tested = 0
    for expressions in _trafilatura_lists():
        for expression in {e for e in expressions} | {native(e) for e in expressions}:
            test = ancestral(expression)
            if test is None:
                continue
            tested += 1
            for page in pages():
                selected = set(expression(page))
                for el in page.iter():
                    want = [a for a in [el, *el.iterancestors()] if a in selected]
                    assert set(test(el)) == set(want), (expression.path, el.tag, el.attrib)
    assert tested >= 10


@pytest.mark.parametrize("path", ["//div/p", "//p[1]", "//p[last()]", "//p[count(b)]", "//p[$n]", "(//a)[1]", "count(//a)",
                                  "//a[contains(@x, '//')]", "/html/body//a", "//a | /html"])
def test_other_expressions_are_no_test_of_ancestors(path: str) -> None:
    assert ancestral(XPath(path)) is None


def test_a_union_keeps_bars_inside_its_strings() -> None:
    test = ancestral(XPath("//a | .//b[@c='|' or contains(@d, '[')]"))
    assert test is not None
    page = lxml.html.fromstring("<html><body><b c='|'><i>x</i></b><b c='y'><i>z</i></b></body></html>")
    assert [el.get("c") for el in test(page.find(".//i"))] == ["|"]
    assert test(page.findall(".//i")[1]) == []
