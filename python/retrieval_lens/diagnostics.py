"""Per-step diagnostics from one step's tensors, the same definitions as src/core/metrics/
(docs/diagnostics.md): distribution summaries with fixed 32-bin histograms, the collapse indicators
(R, gap, violation rate, item cosine, uniformity, per-dimension std, effective rank) and in-batch recall.

Inputs (as StepHostTensors, src/core/metrics/stepInputs.ts), all row-major numpy/torch arrays:
  s_qv [B, N] = s(q_j, items_i),  s_vv [B, N] = s(v_j, items_i),  neg_mask [B, N] (0/1),
  hyper [B, N] δ_ji or τ_ji,  item_emb [B, D] the batch positives v (unit vectors).
"""

from __future__ import annotations

import math
from typing import Optional, Sequence, Tuple

import numpy as np

HISTOGRAM_BINS = 32
SIMILARITY_RANGE = (-1.0, 1.0)
SUMMARY_PERCENTILES = (0, 0.05, 0.25, 0.5, 0.75, 0.95, 1)
RATIO_MIN_DISTANCE = 1e-6
ITEM_GRAM_TOLERANCE = 1e-3
NEG_MASK_THRESHOLD = 0.5


def _np(x) -> np.ndarray:
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def empty_summary(rng: Sequence[float]) -> dict:
    z: dict = {k: 0 for k in ("count", "mean", "std", "min", "p05", "p25", "p50", "p75", "p95", "max")}
    z["hist"] = {"lo": rng[0], "hi": rng[1], "counts": [0] * HISTOGRAM_BINS}
    return z


def summarize(values, rng: Sequence[float], name: str) -> dict:
    """count, mean, population std, min, p05…p95 (linear interpolation, numpy's default), max and a
    32-bin histogram over the fixed range [lo, hi]: bin k = ⌊(x − lo)·32/(hi − lo)⌋, clamped to 0..31."""
    lo, hi = float(rng[0]), float(rng[1])
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValueError(f"{name}: histogram range must be finite with lo < hi, got [{lo}, {hi}]")
    x = _np(values).astype(np.float32).astype(np.float64).ravel()
    if x.size == 0:
        return empty_summary((lo, hi))
    bad = np.flatnonzero(~np.isfinite(x))
    if bad.size:
        raise ValueError(f"{name} contains a non-finite value ({x[bad[0]]}) at index {bad[0]}")
    f = (x - lo) * (HISTOGRAM_BINS / (hi - lo))
    bins = np.clip(np.floor(f), 0, HISTOGRAM_BINS - 1).astype(np.int64)
    counts = np.bincount(bins, minlength=HISTOGRAM_BINS)
    mn, p05, p25, p50, p75, p95, mx = (float(v) for v in np.percentile(x, [100 * p for p in SUMMARY_PERCENTILES]))
    return {
        "count": int(x.size),
        "mean": float(x.mean()),
        "std": float(x.std()),
        "min": mn,
        "p05": p05,
        "p25": p25,
        "p50": p50,
        "p75": p75,
        "p95": p95,
        "max": mx,
        "hist": {"lo": lo, "hi": hi, "counts": [int(c) for c in counts]},
    }


def similarity_ratio(mean_qv: float, mean_vneg: float, negatives: int = 1) -> Tuple[Optional[float], Optional[str]]:
    """R = (1 − mean s(v,v⁻)) / (1 − mean s(q,v)); None with the reason when undefined."""
    if negatives <= 0:
        return None, "no valid negative in the batch"
    d = 1 - mean_qv
    if not d > RATIO_MIN_DISTANCE:
        return None, f"1 − mean s(q,v) = {js_exponential(d, 1)} ≤ 0.000001: every query coincides with its positive"
    return (1 - mean_vneg) / d, None


def js_exponential(x: float, digits: int) -> str:
    """JavaScript's Number.prototype.toExponential(digits): 5.0e-7, 1.2e+3."""
    m, e = f"{x:.{digits}e}".split("e")
    return f"{m}e{'+' if int(e) >= 0 else '-'}{abs(int(e))}"


def scan_pairs(s_qv: np.ndarray, s_vv: np.ndarray, mask: np.ndarray, hyper: np.ndarray):
    """Values over the valid (j, i) pairs (row-major), s(q_j, v_j), ranks and violations (pairScan.ts).
    rank_j = 1 + #{i ∈ N(j) : s(q_j, i) ≥ s(q_j, v_j)} (ties count against the positive), 0 without negatives."""
    B, N = s_qv.shape
    valid = mask > NEG_MASK_THRESHOLD
    valid[np.arange(B), np.arange(B)] = False
    pos = s_qv[np.arange(B), np.arange(B)].astype(np.float64)
    for name, arr in (("s(q,v⁻) (sQV over valid negatives)", s_qv), ("s(v,v⁻) (sVV over valid negatives)", s_vv), ("hyper over valid negatives", hyper)):
        bad = np.argwhere(valid & ~np.isfinite(arr))
        if bad.size:
            j, i = bad[0]
            raise ValueError(f"{name} is {arr[j, i]} at pair j={j}, item i={i}")
    if not np.all(np.isfinite(pos)):
        j = int(np.flatnonzero(~np.isfinite(pos))[0])
        raise ValueError(f"s(q,v) (sQV diagonal) is {pos[j]} at pair j={j}")
    above = (valid & (s_qv >= pos[:, None])).sum(1)
    negatives = valid.sum(1)
    ranks = np.where(negatives > 0, 1 + above, 0)
    violations = int((valid & (pos[:, None] <= s_vv)).sum())
    return pos, s_qv[valid], s_vv[valid], hyper[valid], ranks, violations


def item_gram(s_vv: np.ndarray, item_emb: np.ndarray) -> np.ndarray:
    """G = V Vᵀ from the sVV block (symmetrised) when it agrees with item_emb, else from item_emb (itemGram.ts)."""
    B = item_emb.shape[0]
    v = item_emb.astype(np.float64)
    for j in range(B):
        for i in (j, (j + 1) % B):
            expected = float(v[j] @ v[i])
            if not abs(float(s_vv[j, i]) - expected) <= ITEM_GRAM_TOLERANCE * max(1.0, abs(expected)):
                return v @ v.T
    block = s_vv[:, :B].astype(np.float64)
    g = 0.5 * (block + block.T)
    g[np.arange(B), np.arange(B)] = np.diag(block)
    return g


def distinct_item_rows(mask: np.ndarray) -> Optional[np.ndarray]:
    """Rows j kept unless an earlier row i < j is the same item (masked: neg_mask[j, i] = 0); None if all distinct."""
    B = mask.shape[0]
    keep = np.flatnonzero(~np.tril(mask[:, :B] == 0, -1).any(1))
    return None if len(keep) == B else keep


def mean_off_diagonal_cosine(g: np.ndarray) -> float:
    """Mean over ordered pairs i ≠ j of G_ij / (‖v_i‖‖v_j‖) (a zero row has cosine 0)."""
    b = g.shape[0]
    n2 = np.diag(g)
    inv = np.where(n2 > 0, 1 / np.sqrt(np.where(n2 > 0, n2, 1)), 0)
    c = g * inv[:, None] * inv[None, :]
    return float(2 * np.triu(c, 1).sum() / (b * (b - 1)))


def uniformity(g: np.ndarray) -> float:
    """log mean over i ≠ j of exp(−2‖v_i − v_j‖²), ‖v_i − v_j‖² = G_ii + G_jj − 2G_ij clamped at 0."""
    b = g.shape[0]
    n2 = np.diag(g)
    d2 = np.maximum(n2[:, None] + n2[None, :] - 2 * g, 0)
    e = np.triu(np.exp(-2 * d2), 1)
    return float(math.log(2 * e.sum() / (b * (b - 1))))


def mean_dimension_std(v: np.ndarray) -> float:
    """Mean over the D dimensions of the population std of that dimension across the B rows."""
    return float(v.astype(np.float64).std(0).mean())


def effective_rank(v: np.ndarray) -> float:
    """exp of the entropy of the L1-normalised singular values (from the smaller Gram matrix; eigenvalues
    at or below λ_max·n·64ε count as 0), as effectiveRank.ts."""
    x = v.astype(np.float64)
    g = x @ x.T if x.shape[0] <= x.shape[1] else x.T @ x
    n = g.shape[0]
    lam = np.linalg.eigvalsh(g)[::-1]
    cutoff = max(lam[0], 0) * n * 64 * np.finfo(np.float64).eps if n else 0
    sigma = np.where(lam > cutoff, np.sqrt(np.maximum(lam, 0)), 0)
    total = sigma.sum()
    if total == 0:
        return 0.0
    p = sigma / total
    p = p[p > 0]
    return float(math.exp(-(p * np.log(p)).sum()))


def recall_at(ranks: np.ndarray, k: int) -> float:
    ranked = ranks >= 1
    return float(((ranks <= k) & ranked).sum() / ranked.sum()) if ranked.any() else 0.0


def step_diagnostics(s_qv, s_vv, neg_mask, hyper, hyper_kind: str, hyper_range: Sequence[float], item_emb, with_effective_rank: bool) -> dict:
    """Diagnostics of one logged step (computeStepDiagnostics in stepDiagnostics.ts)."""
    s_qv, s_vv, mask, hyper, item_emb = (_np(a).astype(np.float32) for a in (s_qv, s_vv, neg_mask, hyper, item_emb))
    B, N = s_qv.shape
    if B < 2 or N < B:
        raise ValueError(f"step diagnostics need B >= 2 and N >= B, got B={B}, N={N}")
    if not np.all(np.isfinite(item_emb)):
        raise ValueError("item embeddings v (itemEmb) contain a non-finite value")
    pos, q_neg, v_neg, h_neg, ranks, violations = scan_pairs(s_qv, s_vv, mask, hyper)
    h = summarize(h_neg, hyper_range, "δ" if hyper_kind == "delta" else "τ")
    s_qv_sum = summarize(pos, SIMILARITY_RANGE, "s(q,v)")
    s_qneg = summarize(q_neg, SIMILARITY_RANGE, "s(q,v⁻)")
    s_vneg = summarize(v_neg, SIMILARITY_RANGE, "s(v,v⁻)")
    g = item_gram(s_vv, item_emb)
    distinct = distinct_item_rows(mask)
    if distinct is not None and len(distinct) >= 2:
        g = g[np.ix_(distinct, distinct)]
    ratio, note = similarity_ratio(s_qv_sum["mean"], s_vneg["mean"], s_vneg["count"])
    collapse: dict = {"ratio": ratio}
    if note is not None:
        collapse["ratioNote"] = note
    collapse.update(
        gap=s_qv_sum["mean"] - s_vneg["mean"],
        violationRate=violations / s_vneg["count"] if s_vneg["count"] > 0 else 0,
        itemCosine=mean_off_diagonal_cosine(g),
        uniformity=uniformity(g),
        dimStd=mean_dimension_std(item_emb),
        effectiveRank=effective_rank(item_emb) if with_effective_rank else None,
    )
    return {
        "dist": {
            "delta": h if hyper_kind == "delta" else None,
            "tau": h if hyper_kind == "tau" else None,
            "sQV": s_qv_sum,
            "sQNeg": s_qneg,
            "sVNeg": s_vneg,
        },
        "collapse": collapse,
        "recall": {
            "at1": recall_at(ranks, 1),
            "at5": recall_at(ranks, 5),
            "at10": recall_at(ranks, 10),
            "excludedRows": int((ranks < 1).sum()),
        },
    }


def hyper_range(loss: dict) -> Tuple[str, Tuple[float, float]]:
    """Fixed histogram range of δ (margin) or τ (softmax), hyperRange.ts: adaptive δ ∈ [δ₀, δ₀ + 2α],
    τ ∈ [τ₀, τ₀(1 + 2α)]; Adap-τ τ ∈ [τ₀/e, τ₀·e]; a constant gets ±50% around it (±0.5 around 0)."""

    def band(v: float) -> Tuple[float, float]:
        half = abs(v) * 0.5 or 0.5
        return (v - half, v + half)

    if loss["type"] == "softmax" and loss.get("temperatureRule") == "adap-tau":
        return "tau", (loss["tau0"] / math.e, loss["tau0"] * math.e)
    varies = loss["adaptive"] and loss["alpha"] > 0
    if loss["type"] == "margin":
        return "delta", ((loss["delta0"], loss["delta0"] + 2 * loss["alpha"]) if varies else band(loss["delta0"] if loss["adaptive"] else loss["margin"]))
    return "tau", ((loss["tau0"], loss["tau0"] * (1 + 2 * loss["alpha"])) if varies else band(loss["tau0"] if loss["adaptive"] else loss["temperature"]))
