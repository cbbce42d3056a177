from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from newsarchive.archive.index import PriorCapture
from newsarchive.crawler.recrawl import RecrawlPolicy

T0 = datetime(2024, 1, 15, 10, 0, tzinfo=UTC)


def prior(last: datetime, first: datetime = T0, has_article: bool = True) -> PriorCapture:
    return PriorCapture("http://x/a", last, first, "<urn:x>", "sha1:X", '"e"', None, has_article)


def test_never_archived_or_without_article_is_always_due() -> None:
    policy = RecrawlPolicy.parse("never")
    assert policy.due(None, T0)
    assert policy.due(prior(T0, has_article=False), T0 + timedelta(seconds=1)), "a killed crawl's page is refetched"
    assert not policy.due(prior(T0), T0 + timedelta(days=365))


def test_always_and_interval() -> None:
    assert RecrawlPolicy.parse("always").due(prior(T0), T0)
    six = RecrawlPolicy.parse("6h")
    assert not six.due(prior(T0), T0 + timedelta(hours=5, minutes=59))
    assert six.due(prior(T0), T0 + timedelta(hours=6))


def test_decay_refetches_once_per_checkpoint_then_never() -> None:
    policy = RecrawlPolicy.parse("decay:1h,1d")
    assert not policy.due(prior(T0), T0 + timedelta(minutes=59))
    assert policy.due(prior(T0), T0 + timedelta(hours=1))
    after_first = T0 + timedelta(hours=1, minutes=5)
    assert not policy.due(prior(after_first), T0 + timedelta(hours=20)), "1h checkpoint already served"
    assert policy.due(prior(after_first), T0 + timedelta(days=1, minutes=1))
    assert not policy.due(prior(T0 + timedelta(days=1, minutes=1)), T0 + timedelta(days=300))
    assert len(RecrawlPolicy.parse("decay").ages) == 5


@pytest.mark.parametrize("spec", ["sometimes", "decay:", "0h", "-5m"])
def test_bad_specs_are_rejected(spec: str) -> None:
    with pytest.raises(ValueError):
        RecrawlPolicy.parse(spec)
