"""The five seed stories of the demo sites, as data.

``seeds/stories.json`` holds them, written from ``../shared/seeds/*.txt``: per story the headline, kicker,
dateline, lead and body paragraphs (lists of sentences, verbatim from the seed), subheadings, byline,
dates, and every *chrome* line the seed page contained (teasers, comments, netiquette, newsletter box,
subscription promo, audio-player notice, photo captions, ...), each labelled with its kind and scope:

- ``scope="site"``: the outlet's template repeats it on every page (netiquette, newsletter box, ...);
- ``scope="page"``: it belongs to this article page only (reader comments, captions, similar-news teasers).

What counts as *article body*: the lead, the subheadings and the paragraphs. The title, kicker, dateline
and byline are metadata, neither body nor chrome. ``Story.notes`` says what was invented (missing
headlines, times of day) and which brand names were made fictional.

>>> from newsarchive.demo.content import STORIES
>>> [s.id for s in STORIES]
['000', '001', '002', '003', '004']
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from importlib import resources
from typing import Any, Literal

Scope = Literal["site", "page"]
SCOPES: tuple[Scope, ...] = ("site", "page")
CHROME_KINDS = (
    "teaser-title", "teaser-text", "read-more", "related-heading", "site-label", "source-label",
    "comments-heading", "netiquette", "comment-meta", "comment-title", "comment", "form-label",
    "subscription", "newsletter", "audio", "caption", "credit", "section-label",
)


@dataclass(frozen=True)
class ChromeLine:
    """One line of page furniture, exactly as it shows in the page text."""

    kind: str
    text: str
    scope: Scope
    group: int = 0  # lines of one teaser or one reader comment share a group number (0: none)


@dataclass(frozen=True)
class Subheading:
    before: int  # index of the paragraph this subheading stands before
    text: str


@dataclass(frozen=True)
class Story:
    id: str
    seed_file: str
    outlet: str
    slug: str
    section: str
    title: str
    kicker: str
    dateline: str
    lead: tuple[str, ...]
    paragraphs: tuple[tuple[str, ...], ...]
    subheadings: tuple[Subheading, ...]
    byline: str
    author: str
    published: datetime
    modified: datetime
    language: str
    chrome: tuple[ChromeLine, ...]
    notes: tuple[str, ...] = ()

    def paragraph_texts(self) -> tuple[str, ...]:
        return tuple(" ".join(p) for p in self.paragraphs)

    def lead_text(self) -> str:
        return " ".join(self.lead)

    def subheading_before(self, index: int) -> tuple[str, ...]:
        return tuple(h.text for h in self.subheadings if h.before == index)

    def body_blocks(self) -> tuple[str, ...]:
        """The article body in reading order: lead, then paragraphs with their subheadings."""
        blocks = [self.lead_text()] if self.lead else []
        for index, text in enumerate(self.paragraph_texts()):
            blocks.extend(self.subheading_before(index))
            blocks.append(text)
        return tuple(blocks)

    def body_text(self) -> str:
        return "\n\n".join(self.body_blocks())

    def body_sentences(self) -> tuple[str, ...]:
        """Every sentence of the article body (lead, subheadings, paragraphs), verbatim and in order."""
        out = list(self.lead)
        for index, paragraph in enumerate(self.paragraphs):
            out.extend(self.subheading_before(index))
            out.extend(paragraph)
        return tuple(out)

    def chrome_lines(self, scope: Scope | None = None) -> tuple[str, ...]:
        """The text of every chrome line (of one scope, or all), in seed order."""
        return tuple(c.text for c in self.chrome if scope is None or c.scope == scope)

    def chrome_of(self, kind: str, scope: Scope | None = None) -> tuple[ChromeLine, ...]:
        return tuple(c for c in self.chrome if c.kind == kind and (scope is None or c.scope == scope))

    def with_paragraphs(self, paragraphs: Sequence[str | Sequence[str]], modified: datetime) -> Story:
        """A new version of the story: new body paragraphs (a string is one paragraph of one sentence)."""
        new = tuple((p,) if isinstance(p, str) else tuple(p) for p in paragraphs)
        if not new or any(not p or not all(isinstance(s, str) and s.strip() for s in p) for p in new):
            raise ValueError("paragraphs must be non-empty strings or non-empty lists of sentences")
        keep = tuple(h for h in self.subheadings if h.before < len(new))
        return replace(self, paragraphs=new, subheadings=keep, modified=modified)


class SeedDataError(ValueError):
    """The bundled stories.json is inconsistent (a packaging or editing mistake)."""


def _chrome(raw: dict[str, Any], where: str) -> ChromeLine:
    if raw.get("kind") not in CHROME_KINDS or raw.get("scope") not in SCOPES or not raw.get("text"):
        raise SeedDataError(f"{where}: bad chrome line {raw!r}")
    return ChromeLine(kind=raw["kind"], text=raw["text"], scope=raw["scope"], group=int(raw.get("group", 0)))


def _story(raw: dict[str, Any]) -> Story:
    where = f"stories.json story {raw.get('id', '?')}"
    try:
        story = Story(
            id=raw["id"], seed_file=raw["seed_file"], outlet=raw["outlet"], slug=raw["slug"],
            section=raw["section"], title=raw["title"], kicker=raw["kicker"], dateline=raw["dateline"],
            lead=tuple(raw["lead"]), paragraphs=tuple(tuple(p) for p in raw["paragraphs"]),
            subheadings=tuple(Subheading(int(h["before"]), h["text"]) for h in raw["subheadings"]),
            byline=raw["byline"], author=raw["author"],
            published=datetime.fromisoformat(raw["published"]), modified=datetime.fromisoformat(raw["modified"]),
            language=raw["language"], chrome=tuple(_chrome(c, where) for c in raw["chrome"]),
            notes=tuple(raw.get("notes", ())),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise SeedDataError(f"{where}: {exc!r}") from exc
    if story.published.tzinfo is None or story.modified < story.published:
        raise SeedDataError(f"{where}: dates need a timezone and modified >= published")
    return story


def load_stories(text: str | None = None) -> tuple[Story, ...]:
    """Stories from JSON text (default: the bundled ``seeds/stories.json``)."""
    if text is None:
        text = resources.files("newsarchive.demo").joinpath("seeds/stories.json").read_text(encoding="utf-8")
    return tuple(_story(raw) for raw in json.loads(text)["stories"])


STORIES: tuple[Story, ...] = load_stories()
STORIES_BY_ID: dict[str, Story] = {s.id: s for s in STORIES}


def story_by_slug(slug: str) -> Story:
    for story in STORIES:
        if story.slug == slug:
            return story
    raise KeyError(f"no demo story with slug {slug!r}; known: {', '.join(s.slug for s in STORIES)}")
