"""Article versions: what changed between two archived extractions of one article."""

from __future__ import annotations

import difflib

from newsarchive.archive.models import Article


def text_diff(old: Article, new: Article) -> str:
    """A unified diff of the two versions' titles and texts, labelled with their capture times."""
    def lines(article: Article) -> list[str]:
        return [f"# {article.title or ''}\n", "\n"] + [line + "\n" for line in article.text.splitlines()]

    label_old = f"{old.url} @ {old.fetched_at:%Y-%m-%dT%H:%M:%SZ}"
    label_new = f"{new.url} @ {new.fetched_at:%Y-%m-%dT%H:%M:%SZ}"
    diff = "".join(difflib.unified_diff(lines(old), lines(new), label_old, label_new))
    return diff or f"no change in text between {label_old} and {label_new}\n"
