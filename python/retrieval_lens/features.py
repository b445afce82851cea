"""Hashed word / character-trigram features, byte-exact with src/core/model/featurize.ts.

words(text)      = the maximal runs of Unicode letters and digits ([\\p{L}\\p{N}]+) of text.lower()
fnv1a(s)         = 32-bit FNV-1a over the UTF-16 code units of s (as JavaScript's charCodeAt)
featurize(text)  = [fnv1a("w:" + w) % V for each word w]
                   + [fnv1a("t:" + t) % V for each trigram t of "#" + w + "#", word by word]
                   cut to max_tokens (words first, so truncation keeps whole words before trigrams).
Trigrams are slices of three UTF-16 code units, as JavaScript's String.slice.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import List

FNV_OFFSET = 0x811C9DC5
FNV_PRIME = 0x01000193


@dataclass(frozen=True)
class FeaturizeOptions:
    buckets: int
    max_tokens: int
    char_trigrams: bool


def featurize_options(model: dict, tower: str) -> FeaturizeOptions:
    """The featurisation of one tower ('query' or 'item') under a config's `model` section."""
    limit = model["maxQueryTokens"] if tower == "query" else model["maxItemTokens"]
    return FeaturizeOptions(model["vocabBuckets"], limit, model["charTrigrams"])


def _word_char(c: str) -> bool:
    return unicodedata.category(c)[0] in ("L", "N")


def words(text: str) -> List[str]:
    """Lower-cased alphanumeric words (Unicode letters and digits), as `words()` in featurize.ts."""
    out: List[str] = []
    cur: List[str] = []
    for c in text.lower():
        if _word_char(c):
            cur.append(c)
        elif cur:
            out.append("".join(cur))
            cur = []
    if cur:
        out.append("".join(cur))
    return out


def utf16_units(s: str) -> List[int]:
    """The UTF-16 code units of s (a character outside the BMP gives a surrogate pair)."""
    b = s.encode("utf-16-le", "surrogatepass")
    return [b[i] | (b[i + 1] << 8) for i in range(0, len(b), 2)]


def fnv1a_units(units: List[int]) -> int:
    """32-bit FNV-1a: h = 0x811c9dc5; for each code unit u: h = (h ^ u) · 0x01000193 mod 2^32."""
    h = FNV_OFFSET
    for u in units:
        h = ((h ^ u) * FNV_PRIME) & 0xFFFFFFFF
    return h


def fnv1a(s: str) -> int:
    """32-bit FNV-1a of a string's UTF-16 code units."""
    return fnv1a_units(utf16_units(s))


_W = utf16_units("w:")
_T = utf16_units("t:")
_HASH = utf16_units("#")


def featurize(text: str, opts: FeaturizeOptions) -> List[int]:
    """Hashed feature ids of a text: at most `max_tokens`, words first, then trigrams in word order."""
    ws = words(text)
    ids: List[int] = []
    for w in ws:
        if len(ids) >= opts.max_tokens:
            break
        ids.append(fnv1a_units(_W + utf16_units(w)) % opts.buckets)
    if opts.char_trigrams:
        for w in ws:
            marked = _HASH + utf16_units(w) + _HASH
            for i in range(len(marked) - 2):
                if len(ids) >= opts.max_tokens:
                    return ids
                ids.append(fnv1a_units(_T + marked[i : i + 3]) % opts.buckets)
    return ids
