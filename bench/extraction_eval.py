"""The article-extraction benchmark metric (scrapinghub/article-extraction-benchmark), reproduced.

Tokens are the ``\\w+`` matches of a text. A text becomes the *multiset* of its token 4-gram shingles
(a text of fewer than 4 tokens is one shingle of all of them; no token, no shingle). For each page:

- TP = sum over shingles of min(count in truth, count in prediction),
- FP = sum of the prediction's surplus, FN = sum of the truth's surplus,
- precision = TP / (TP + FP), recall = TP / (TP + FN) (recall 1.0 when the truth has no shingle).

Precision and recall are macro-averaged over pages; a page with an empty prediction (no shingle) is left
out of the precision average but scores recall 0. F1 is the harmonic mean of the two averages (not the
mean of per-page F1s). "accuracy" is the share of pages whose token sequences match exactly.

>>> s = score_page("a b c d e", "a b c d e")
>>> (s.precision, s.recall, s.f1)
(1.0, 1.0, 1.0)
>>> summarize([score_page("a b c d e", ""), score_page("a b c d e", "a b c d x")]).precision
0.5
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

TOKEN = re.compile(r"\w+")
NGRAM = 4


def tokens(text: str) -> list[str]:
    return TOKEN.findall(text or "")


def shingles(text: str, n: int = NGRAM) -> Counter[str]:
    """The multiset of token n-gram shingles of ``text``."""
    toks = tokens(text)
    if not toks:
        return Counter()
    return Counter(" ".join(toks[i:i + n]) for i in range(max(1, len(toks) - n + 1)))


@dataclass(frozen=True)
class PageScore:
    tp: int
    fp: int
    fn: int
    exact: bool

    @property
    def empty_prediction(self) -> bool:
        return self.tp + self.fp == 0

    @property
    def precision(self) -> float | None:
        """None for an empty prediction (it is left out of the precision average)."""
        return None if self.empty_prediction else self.tp / (self.tp + self.fp)

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        """Per-page F1 (for finding regressions; the benchmark's F1 is of the averages)."""
        p = self.precision or 0.0
        return harmonic(p, self.recall)


def harmonic(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def score_page(truth: str, prediction: str) -> PageScore:
    want, got = shingles(truth), shingles(prediction)
    tp = sum((want & got).values())
    fp = sum((got - want).values())
    fn = sum((want - got).values())
    return PageScore(tp, fp, fn, exact=tokens(truth) == tokens(prediction))


@dataclass(frozen=True)
class Summary:
    pages: int
    precision: float
    recall: float
    accuracy: float

    @property
    def f1(self) -> float:
        return harmonic(self.precision, self.recall)


def summarize(scores: Sequence[PageScore]) -> Summary:
    precisions = [s.precision for s in scores if s.precision is not None]
    return Summary(
        pages=len(scores),
        precision=statistics.mean(precisions) if precisions else 0.0,
        recall=statistics.mean(s.recall for s in scores) if scores else 0.0,
        accuracy=statistics.mean(1.0 if s.exact else 0.0 for s in scores) if scores else 0.0,
    )


def evaluate(truth: dict[str, str], predictions: dict[str, str], ids: Iterable[str] | None = None) -> Summary:
    """Score ``predictions`` (id -> text; a missing id counts as empty) against ``truth`` (id -> text)."""
    keys = list(ids) if ids is not None else list(truth)
    return summarize([score_page(truth[k], predictions.get(k, "")) for k in keys])
