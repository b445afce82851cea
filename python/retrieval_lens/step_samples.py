"""Step samples and suspected false negatives of a logged step: the same algorithm as src/core/metrics/stepSamples.ts
(docs/diagnostics.md "Step samples", docs/run-format.md §4.2), tested against the same fixture
(test/fixtures/parity/stepSamples.json, python/tests/test_step_samples.py).

Shapes: B pairs, N candidates (rows 0..B−1 the batch positives); s_qv, s_vv, hyper and neg_mask are [B][N] (lists or
tensors); a valid negative (j, i) has neg_mask[j][i] > 0.5 and i ≠ j. References are (id, file, line)."""

from __future__ import annotations

import math
import re
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

from .data import normalise_text

LIMITS = {"hard": 4, "violation": 4, "falseNegative": 4, "lowHyper": 3, "highHyper": 3, "random": 3, "maxBytes": 4096}
FN_OVERLAP = 0.8
FN_SCORED_OVERLAP = 0.5
_WORD = re.compile(r"[^\W_]+")

Ref = Tuple[str, str, int]


def _matrix(m, B: int, N: int) -> np.ndarray:
    """[B, N] float32 (as the trainers read the scores back) from a tensor, an array or nested / flat lists."""
    if hasattr(m, "detach"):
        m = m.detach().cpu().numpy()
    return np.asarray(m, dtype=np.float32).reshape(B, N)


def suspect_false_negatives(B: int, N: int, s_qv: np.ndarray, valid: np.ndarray, item_texts: Sequence[str]):
    """([(k, rule, overlap)] of the valid negatives that look like false negatives, row-major k = j·N + i; the number
    of valid negatives). Word overlaps of every (positive, candidate) pair at once: a sparse [N × words] incidence
    matrix times the dense incidence of the B positives (torch.sparse.mm), so the cost is the texts' words × B."""
    norms = [normalise_text(t) for t in item_texts]
    codes: Dict[str, int] = {}
    norm_code = np.array([codes.setdefault(t, len(codes)) for t in norms])
    vocab: Dict[str, int] = {}
    rows, cols = [], []
    for i, t in enumerate(norms):
        for w in set(_WORD.findall(t)):
            rows.append(i)
            cols.append(vocab.setdefault(w, len(vocab)))
    sizes = np.bincount(np.array(rows, dtype=np.int64), minlength=N).astype(np.float64) if rows else np.zeros(N)
    V = max(1, len(vocab))
    incidence = torch.sparse_coo_tensor(torch.tensor([rows, cols], dtype=torch.long).reshape(2, -1), torch.ones(len(rows)), (N, V))
    positives = torch.zeros(V, B)
    r_t, c_t = torch.tensor(rows, dtype=torch.long), torch.tensor(cols, dtype=torch.long)
    in_batch = r_t < B
    positives[c_t[in_batch], r_t[in_batch]] = 1.0
    shared = torch.sparse.mm(incidence, positives).numpy().T.astype(np.float64)  # [B, N] exact counts
    union = sizes[:B, None] + sizes[None, :] - shared
    overlap = np.divide(shared, union, out=np.zeros_like(shared), where=union > 0)
    pos = np.diagonal(s_qv[:, :B]).astype(np.float64)
    above = s_qv.astype(np.float64) >= pos[:, None]
    same = norm_code[:B, None] == norm_code[None, :]
    over = ~same & (overlap >= FN_OVERLAP)
    scored = ~same & ~over & above & (overlap >= FN_SCORED_OVERLAP)
    pairs = []
    for k in np.flatnonzero(valid & (same | over | scored)).tolist():
        j, i = divmod(k, N)
        pairs.append((k, "sameText", 1.0) if same[j, i] else (k, "overlap" if over[j, i] else "scoredAbove", float(overlap[j, i])))
    return pairs, int(valid.sum())


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


def _top_by(key: np.ndarray, candidates: np.ndarray, count: int, N: int) -> List[int]:
    """The `count` best candidate pairs by `key` ([B, N] float64) descending, ties by k ascending, at most one per
    query row (stepSamples.ts topBy): each row's best (argmax: its first maximum), the rows' bests ranked."""
    k_of = np.where(candidates, key, -np.inf)
    has = candidates.any(1)
    best_i = k_of.argmax(1)
    rows = np.flatnonzero(has)
    ks = rows * N + best_i[rows]
    vs = k_of[rows, best_i[rows]]
    order = np.lexsort((ks, -vs))[:count]
    return [int(k) for k in ks[order]]


def sample_step(step: int, B: int, N: int, s_qv, s_vv, neg_mask, hyper, queries: Sequence[Ref], items: Sequence[Ref], item_texts: Sequence[str]):
    """(samples, suspectedFalseNegatives) of one logged step, as the step event holds them (stepSamples.ts sampleStep)."""
    sq, sv, m, h = (_matrix(x, B, N) for x in (s_qv, s_vv, neg_mask, hyper))
    valid = m > 0.5
    valid[np.arange(B), np.arange(B)] = False
    fn_pairs, _ = suspect_false_negatives(B, N, sq, valid, item_texts)
    valid_count = int(valid.sum())
    valid_ks = np.flatnonzero(valid)
    pos = np.diagonal(sq[:, :B]).astype(np.float64)
    sq64, sv64, h64 = sq.astype(np.float64), sv.astype(np.float64), h.astype(np.float64)
    fn_mask = np.zeros((B, N), dtype=bool)
    for k, _, _ in fn_pairs:
        fn_mask.flat[k] = True

    L = LIMITS
    picks = [
        ("hard", _top_by(sq64 - pos[:, None], valid, L["hard"], N)),
        ("violation", _top_by(sv64 - pos[:, None], valid & (sv64 >= pos[:, None]), L["violation"], N)),
        ("falseNegative", _top_by(sq64 - pos[:, None], fn_mask, L["falseNegative"], N)),
        ("lowHyper", _top_by(-h64, valid, L["lowHyper"], N)),
        ("highHyper", _top_by(h64, valid, L["highHyper"], N)),
    ]
    random: List[int] = []
    a = 0
    while a < 4 * L["random"] and len(random) < min(L["random"], valid_count):
        k = int(valid_ks[pick_hash(step, a) % valid_count])
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
                "sQV": _round(float(pos[j]), 4),
                "sQNeg": _round(float(sq64[j, i]), 4),
                "sVNeg": _round(float(sv64[j, i]), 4),
                "hyper": _round(float(h64[j, i]), 5),
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
