"""Step samples and suspected false negatives of a logged step: the same algorithm as src/core/metrics/stepSamples.ts
(docs/diagnostics.md "Step samples", docs/run-format.md §4.2), tested against the same fixture
(test/fixtures/parity/stepSamples.json, python/tests/test_step_samples.py).

Shapes: B pairs, N candidates (rows 0..B−1 the batch positives); s_qv, s_vv, hyper and neg_mask are [B][N] (lists or
tensors); a valid negative (j, i) has neg_mask[j][i] > 0.5 and i ≠ j. References are (id, file, line)."""

from __future__ import annotations

import math
import re
from typing import Dict, List, Optional, Sequence, Tuple

from .data import normalise_text

LIMITS = {"hard": 4, "violation": 4, "falseNegative": 4, "lowHyper": 3, "highHyper": 3, "random": 3, "maxBytes": 4096}
FN_OVERLAP = 0.8
FN_SCORED_OVERLAP = 0.5
_WORD = re.compile(r"[^\W_]+")

Ref = Tuple[str, str, int]


def _flat(m) -> List[float]:
    if hasattr(m, "tolist"):
        m = m.tolist()
    return [float(x) for row in m for x in row] if m and isinstance(m[0], (list, tuple)) else [float(x) for x in m]


def _words(norm: str) -> set:
    return set(_WORD.findall(norm))


def word_overlap(a: set, b: set) -> float:
    if not a and not b:
        return 0.0
    shared = len(a & b)
    return shared / (len(a) + len(b) - shared)


def suspect_false_negatives(B: int, N: int, s_qv: List[float], neg_mask: List[float], item_texts: Sequence[str]):
    """[(k, rule, overlap)] of the valid negatives that look like false negatives (row-major k = j·N + i), and the
    number of valid negatives."""
    norms = [normalise_text(t) for t in item_texts]
    words = [_words(t) for t in norms]
    pairs = []
    valid = 0
    for j in range(B):
        pos = s_qv[j * N + j]
        pw = words[j]
        for i in range(N):
            k = j * N + i
            if not neg_mask[k] > 0.5 or i == j:
                continue
            valid += 1
            if norms[i] == norms[j]:
                pairs.append((k, "sameText", 1.0))
                continue
            nw = words[i]
            bound = min(len(pw), len(nw)) / max(1, len(pw), len(nw))
            above = s_qv[k] >= pos
            if bound < (FN_SCORED_OVERLAP if above else FN_OVERLAP):
                continue
            o = word_overlap(pw, nw)
            if o >= FN_OVERLAP:
                pairs.append((k, "overlap", o))
            elif above and o >= FN_SCORED_OVERLAP:
                pairs.append((k, "scoredAbove", o))
    return pairs, valid


def _round(x: float, d: int) -> Optional[float]:
    if not math.isfinite(x):
        return None
    f = 10**d
    return math.floor(x * f + 0.5) / f


def _imul(a: int, b: int) -> int:
    return (a * b) & 0xFFFFFFFF


def pick_hash(step: int, k: int) -> int:
    """32-bit hash of (step, k) (murmur3's finaliser), as stepSamples.ts pickHash."""
    h = (_imul(step, 0x9E3779B1) + _imul(k + 1, 0x85EBCA6B)) & 0xFFFFFFFF
    h ^= h >> 16
    h = _imul(h, 0x85EBCA6B)
    h ^= h >> 13
    h = _imul(h, 0xC2B2AE35)
    h ^= h >> 16
    return h


def _bytes(s: str) -> int:
    return len(s.encode("utf-8"))


def _row_bound(row: Dict) -> int:
    return 150 + _bytes(row["q"][0]) + _bytes(row["v"][0]) + _bytes(row["n"][0]) + sum(len(r) + 3 for r in row["why"]) + (40 if "fn" in row else 0)


def _top_by(ks: List[int], key, count: int, N: int) -> List[int]:
    out: List[int] = []
    rows = set()
    for k in sorted(ks, key=lambda k: (-key(k), k)):
        if len(out) >= count:
            break
        j = k // N
        if j in rows:
            continue
        rows.add(j)
        out.append(k)
    return out


def sample_step(step: int, B: int, N: int, s_qv, s_vv, neg_mask, hyper, queries: Sequence[Ref], items: Sequence[Ref], item_texts: Sequence[str]):
    """(samples, suspectedFalseNegatives) of one logged step, as the step event holds them (stepSamples.ts sampleStep)."""
    sq, sv, m, h = _flat(s_qv), _flat(s_vv), _flat(neg_mask), _flat(hyper)
    fn_pairs, valid_count = suspect_false_negatives(B, N, sq, m, item_texts)
    valid = [j * N + i for j in range(B) for i in range(N) if m[j * N + i] > 0.5 and i != j]

    def pos(k: int) -> float:
        j = k // N
        return sq[j * N + j]

    L = LIMITS
    picks = [
        ("hard", _top_by(valid, lambda k: sq[k] - pos(k), L["hard"], N)),
        ("violation", _top_by([k for k in valid if sv[k] >= pos(k)], lambda k: sv[k] - pos(k), L["violation"], N)),
        ("falseNegative", _top_by([p[0] for p in fn_pairs], lambda k: sq[k] - pos(k), L["falseNegative"], N)),
        ("lowHyper", _top_by(valid, lambda k: -h[k], L["lowHyper"], N)),
        ("highHyper", _top_by(valid, lambda k: h[k], L["highHyper"], N)),
    ]
    random: List[int] = []
    a = 0
    while a < 4 * L["random"] and len(random) < min(L["random"], len(valid)):
        k = valid[pick_hash(step, a) % len(valid)]
        if k not in random:
            random.append(k)
        a += 1
    picks.append(("random", random))
    fn_of = {p[0]: p for p in fn_pairs}
    files: List[str] = []

    def ref(r: Ref) -> list:
        if r[1] not in files:
            files.append(r[1])
        return [r[0], files.index(r[1]), r[2]]

    by_k: Dict[int, Dict] = {}
    for why, ks in picks:
        for k in ks:
            if k in by_k:
                if why not in by_k[k]["why"]:
                    by_k[k]["why"].append(why)
                continue
            j, i = divmod(k, N)
            row = {
                "why": [why],
                "q": ref(queries[j]),
                "v": ref(items[j]),
                "n": ref(items[i]),
                "sQV": _round(pos(k), 4),
                "sQNeg": _round(sq[k], 4),
                "sVNeg": _round(sv[k], 4),
                "hyper": _round(h[k], 5),
            }
            if k in fn_of:
                row["fn"] = {"rule": fn_of[k][1], "overlap": _round(fn_of[k][2], 3) or 0}
            by_k[k] = row
    rows = list(by_k.values())
    total = 30 + sum(_bytes(f) + 3 for f in files) + sum(_row_bound(r) for r in rows)
    while rows and total > L["maxBytes"]:
        total -= _row_bound(rows[-1])
        rows.pop()
    used = sorted({r[x][1] for r in rows for x in ("q", "v", "n")})
    renumber = {f: at for at, f in enumerate(used)}
    for r in rows:
        for x in ("q", "v", "n"):
            r[x][1] = renumber[r[x][1]]
    suspected = {"count": len(fn_pairs), "share": len(fn_pairs) / valid_count if valid_count > 0 else 0}
    return {"files": [files[f] for f in used], "rows": rows}, suspected
