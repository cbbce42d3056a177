"""MinHash signatures and LSH band keys in numpy alone, bit for bit those of datasketch 2.0 (``scheme="affine32"``).

Story clustering (:mod:`newsarchive.archive.dedup`) ran on datasketch, whose package ``__init__`` (and even
``datasketch.minhash``) imports scipy, only for the LSH parameter search: ~0.5 s CPU at every crawl's close
(``python -c "import datasketch.minhash"`` with ``time.process_time()``; numpy alone: ~0.09 s). The
signatures stored in ``story_clusters`` were made by datasketch, so this module reproduces its algorithm
exactly (``tests/test_dedup.py`` compares both on varied texts):

- each shingle is hashed to 32 bits: the first four bytes of its SHA-1, little-endian (``sha1_hash32``);
- the hash is pre-mixed once by the MurmurHash3 32-bit finalizer (a fixed bijection);
- permutation ``k`` maps it to ``a_k * h + b_k`` modulo 2**32 (``a_k`` odd), with ``a`` and ``b`` drawn from
  ``numpy.random.RandomState(seed)``: ``a = randint(0, 2**31, n) * 2 + 1``, then ``b = randint(0, 2**32, n)``;
- the signature holds each permutation's minimum (2**32 - 1 for an empty set).

This module imports numpy at the top; import it only where clustering runs (the archive library must not
load numpy, ``tests/test_layout.py``).
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterable, Sequence

import numpy as np

EMPTY = np.uint32(0xFFFFFFFF)  # a permutation's minimum over no shingles
_FMIX = (np.uint32(16), np.uint32(0x85EBCA6B), np.uint32(13), np.uint32(0xC2B2AE35), np.uint32(16))
_CHUNK = 4096  # shingles hashed per step: a 100k-word page needs 4096 x num_perm x 4 bytes at a time, not 50 MB


@functools.lru_cache(maxsize=8)
def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``(a, b)`` parameters of the ``num_perm`` affine permutations (read-only arrays, made once)."""
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    a.flags.writeable = b.flags.writeable = False
    return a, b


def _fmix32(h: np.ndarray) -> np.ndarray:
    """The MurmurHash3 finalizer; uint32 array arithmetic wraps around, which is the intended modulo 2**32."""
    s1, m1, s2, m2, s3 = _FMIX
    h = h ^ (h >> s1)
    h = h * m1
    h = h ^ (h >> s2)
    h = h * m2
    return h ^ (h >> s3)


def hash32(items: Sequence[str]) -> np.ndarray:
    """The 32-bit input hash of each item: the first four bytes of SHA-1 of its UTF-8 form, little-endian."""
    sha1 = hashlib.sha1
    return np.frombuffer(b"".join([sha1(s.encode("utf-8")).digest()[:4] for s in items]), dtype="<u4")


# The defaults of story clustering (newsarchive.archive.dedup.ClusterOptions, measured on the seed texts there):
# extraction workers sign each article's text with them (:func:`text_signature`), the close reuses it
NUM_PERM = 128
SEED = 1
SHINGLE_SIZE = 5
MIN_SHINGLES = 10  # shorter texts only match exactly (a few words overlap with everything): no signature
_WORD = re.compile(r"\w+")


def shingles(text: str, size: int = SHINGLE_SIZE) -> set[str]:
    """The text's word ``size``-grams, lower-cased (a text of fewer words is its one shingle)."""
    words = _WORD.findall(text.lower())
    if len(words) < size:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i:i + size]) for i in range(len(words) - size + 1)}


def text_signature(text: str) -> tuple[int, bytes | None]:
    """(shingle count, stored signature or None when too short) of a text, with the default settings.

    Computed where the text is extracted, in the crawl's extraction workers, beside each other: at a crawl's
    close shingling and hashing were ~2 ms of CPU per article, one after the other on the critical path
    (cProfile of ``cluster_articles`` on 993 articles: 1.9 of 2.7 s)."""
    shingle_set = shingles(text, SHINGLE_SIZE)
    if len(shingle_set) < MIN_SHINGLES:
        return len(shingle_set), None
    return len(shingle_set), to_blob(minhash(shingle_set, NUM_PERM, SEED))


def minhash(shingles: Iterable[str], num_perm: int = NUM_PERM, seed: int = SEED) -> np.ndarray:
    """The signature of a set of strings: ``num_perm`` uint32 values (datasketch's ``hashvalues``)."""
    a, b = permutations(num_perm, seed)
    values = np.full(num_perm, EMPTY, dtype=np.uint32)
    items = list(shingles)
    for start in range(0, len(items), _CHUNK):
        h = _fmix32(hash32(items[start:start + _CHUNK]).astype(np.uint32)).reshape(-1, 1)
        np.minimum(values, (h * a + b).min(axis=0), out=values)
    return values


def to_blob(signature: np.ndarray) -> bytes:
    """The stored form: each value as a little-endian uint64 (what ``hashvalues.astype("<u8")`` gave)."""
    return signature.astype("<u8").tobytes()


def from_blobs(blobs: Sequence[bytes], num_perm: int) -> np.ndarray:
    """Stored signatures as one ``(len(blobs), num_perm)`` uint32 matrix; ValueError when one has another length."""
    width = num_perm * 8
    if any(len(blob) != width for blob in blobs):
        wrong = next(len(blob) // 8 for blob in blobs if len(blob) != width)
        raise ValueError(f"stored signatures have {wrong} permutations, expected {num_perm}")
    if not blobs:
        return np.empty((0, num_perm), dtype=np.uint32)
    return np.frombuffer(b"".join(blobs), dtype="<u8").reshape(len(blobs), num_perm).astype(np.uint32)


def jaccard(a: np.ndarray, b: np.ndarray) -> np.ndarray | float:
    """The Jaccard estimate: the share of equal values (row-wise for matrices), as datasketch computes it."""
    equal = np.count_nonzero(a == b, axis=-1)
    return equal / float(a.shape[-1]) if np.ndim(equal) else float(equal) / float(a.shape[-1])


def overlap(jaccard_estimate: np.ndarray | float, a_size: np.ndarray | int,
            b_size: np.ndarray | int) -> np.ndarray | float:
    """Estimated shared shingles / shingles of the smaller set, from the Jaccard estimate and the set sizes.

    |A & B| = J * (|A| + |B|) / (1 + J); the operations in the order the scalar version always used, so stored
    similarities do not change."""
    shared = jaccard_estimate * (np.add(a_size, b_size)) / (1.0 + jaccard_estimate)
    return np.minimum(1.0, shared / np.minimum(a_size, b_size))


def band_keys(signatures: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """The LSH key of each band of each signature: a ``(n, bands)`` int32 matrix.

    Two signatures are LSH candidates when some band has the same key. With one row per band (the default
    layout) the key is the band's hash value itself, as a signed 32-bit integer (it fits the index's INTEGER
    column on every backend); with several rows the values are combined by an FNV-style multiply-xor into 32
    bits: a collision only adds a candidate, which the overlap check then rejects."""
    signatures = np.atleast_2d(signatures)
    used = signatures[:, :bands * rows].reshape(len(signatures), bands, rows).astype(np.uint32)
    key = used[:, :, 0]
    if rows > 1:
        key = _fmix32(key)
        for j in range(1, rows):
            key = _fmix32((key * np.uint32(0x01000193)) ^ used[:, :, j])
    return np.ascontiguousarray(key).view(np.int32)


def _trapezoid(y: np.ndarray, x: np.ndarray) -> float:
    return float(((y[1:] + y[:-1]) * np.diff(x)).sum() / 2.0)  # np.trapezoid is numpy >= 2 only


def _false_positive(threshold: float, b: int, r: int, grid: np.ndarray) -> float:
    s = grid * threshold
    return _trapezoid(1.0 - (1.0 - s ** r) ** b, s)


def _false_negative(threshold: float, b: int, r: int, grid: np.ndarray) -> float:
    s = threshold + grid * (1.0 - threshold)
    return _trapezoid((1.0 - s ** r) ** b, s)


def lsh_params(threshold: float, num_perm: int, weights: tuple[float, float] = (0.5, 0.5)) -> tuple[int, int]:
    """``(bands, rows)`` that minimise the weighted areas of false positives and false negatives around the
    Jaccard ``threshold``: datasketch's ``MinHashLSH`` choice, with a 2001-point trapezoid rule in place of
    scipy's quadrature (the same choice for the settings ``tests/test_dedup.py`` compares)."""
    grid = np.linspace(0.0, 1.0, 2001)
    best, choice = float("inf"), (0, 0)
    for b in range(1, num_perm + 1):
        for r in range(1, num_perm // b + 1):
            error = (weights[0] * _false_positive(threshold, b, r, grid)
                     + weights[1] * _false_negative(threshold, b, r, grid))
            if error < best:
                best, choice = error, (b, r)
    return choice
