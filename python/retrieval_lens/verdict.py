"""The collapse verdict, a port of src/core/metrics/collapseMonitor.ts (docs/diagnostics.md, "Collapse
verdict"): a state machine over the collapse indicators of consecutive logged steps, judged on levels
and trends, with the config's `diagnostics.collapse.*` thresholds. Same states and the same reason texts
(numbers formatted as JavaScript's toFixed / toPrecision do).
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal
from typing import Dict, List, Optional, Tuple

from .schemas import experiment_defaults

#: The config's `diagnostics.collapse` defaults (schemas/experiment.schema.json, as collapseMonitor.ts has them).
DEFAULT_COLLAPSE_THRESHOLDS = experiment_defaults("diagnostics", "collapse")
HEALTHY_REASON = "separated; no indicator moving away from its best"


def _js_special(x: float) -> Optional[str]:
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    return None


def to_fixed(x: float, digits: int) -> str:
    """JavaScript's x.toFixed(digits): the exact value rounded half away from zero."""
    special = _js_special(x)
    if special is not None:
        return special
    return f"{Decimal(x).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP):f}"


def to_precision(x: float, p: int) -> str:
    """JavaScript's x.toPrecision(p) (fixed notation for exponents −6 … p−1, else exponential)."""
    special = _js_special(x)
    if special is not None:
        return special
    if x == 0:
        return "0." + "0" * (p - 1) if p > 1 else "0"
    d = Decimal(x)
    e = d.adjusted()
    r = d.quantize(Decimal(1).scaleb(e - p + 1), rounding=ROUND_HALF_UP)
    if r.adjusted() != e:  # rounding carried into a new digit (9.96 → 10)
        e = r.adjusted()
        r = d.quantize(Decimal(1).scaleb(e - p + 1), rounding=ROUND_HALF_UP)
    if e < -6 or e >= p:
        digits = str(abs(r.scaleb(-(e - p + 1)).to_integral_value()))
        mant = digits[0] + ("." + digits[1:] if p > 1 else "")
        return f"{'-' if x < 0 else ''}{mant}e{'+' if e >= 0 else '-'}{abs(e)}"
    return f"{r:f}"


def fmt(x: float) -> str:
    return to_fixed(x, 2)


def fmt_r(x: Optional[float]) -> str:
    if x is None:
        return "n/a"
    return to_fixed(x, 2) if abs(x) >= 0.1 else to_precision(x, 2)


def default_never_separated_steps(total_steps: Optional[int]) -> int:
    return max(100, math.ceil((total_steps if total_steps is not None else 400) / 4))


def _median(xs: List[float]) -> float:
    s = sorted(xs)
    return s[len(s) // 2]


class CollapseMonitor:
    """Turns the diagnostics of consecutive logged steps into a verdict {state, reason}."""

    def __init__(self, thresholds: Optional[Dict] = None, total_steps: Optional[int] = None):
        t = dict(DEFAULT_COLLAPSE_THRESHOLDS)
        t.update({k: v for k, v in (thresholds or {}).items() if v is not None})
        self.t = t
        self.never_separated_at = t["neverSeparatedSteps"] if t["neverSeparatedSteps"] is not None else default_never_separated_steps(total_steps)
        self.last_step: Optional[int] = None
        self.latest_effective_rank: Optional[float] = None
        self.points: List[dict] = []
        self.signature_since: Optional[int] = None
        self.best_ratio_before: Optional[float] = None
        self.separated_at: Optional[int] = None
        self.best: Optional[dict] = None
        self.streaks: Dict[str, int] = {}
        self.collapsing_streak = 0

    def update(self, diag: dict, step: int) -> dict:
        if self.last_step is not None and step <= self.last_step:
            raise ValueError(f"CollapseMonitor.update: step {step} must be after the previous logged step {self.last_step}")
        self.last_step = step
        t = self.t
        c = diag["collapse"]
        if c.get("effectiveRank") is not None:
            self.latest_effective_rank = c["effectiveRank"]
        ratio = c["ratio"] if isinstance(c.get("ratio"), (int, float)) and math.isfinite(c["ratio"]) else None
        signature = ratio is not None and ratio < 1 and c["itemCosine"] > t["collapsedItemCosine"]
        p = {"step": step, "ratio": ratio, "itemCosine": c["itemCosine"], "violationRate": c["violationRate"], "signature": signature}
        self.points.append(p)
        if signature:
            if self.signature_since is None:
                self.signature_since = step
        else:
            self.signature_since = None
        if self.separated_at is None and ratio is not None and ratio >= t["separatedRatio"]:
            self.separated_at = step
        if self.separated_at is None and ratio is not None:
            self.best_ratio_before = max(self.best_ratio_before if self.best_ratio_before is not None else -math.inf, ratio)
        self._track_best()
        while len(self.points) > 3 and self.points[0]["step"] < step - t["windowSteps"]:
            self.points.pop(0)
        verdict = self._before(p) if self.separated_at is None else self._after(p)
        self.collapsing_streak = self.collapsing_streak + 1 if verdict["state"] in ("collapsing", "collapsed") else 0
        return verdict

    def _track_best(self) -> None:
        if self.separated_at is None:
            return
        recent = [p for p in self.points if p["step"] >= self.separated_at][-3:]
        ratios = [p["ratio"] for p in recent if p["ratio"] is not None]
        r = _median(ratios) if ratios else None
        cos = _median([p["itemCosine"] for p in recent])
        viol = _median([p["violationRate"] for p in recent])
        if self.best is None:
            self.best = {"ratio": r if r is not None else 1, "itemCosine": cos, "violationRate": viol}
        else:
            if r is not None:
                self.best["ratio"] = max(self.best["ratio"], r)
            self.best["itemCosine"] = min(self.best["itemCosine"], cos)
            self.best["violationRate"] = min(self.best["violationRate"], viol)

    def _stalled(self, p: dict) -> Optional[dict]:
        t = self.t
        if self.signature_since is None or self.signature_since > p["step"] - t["windowSteps"]:
            return None
        window = [q for q in self.points if q["step"] >= p["step"] - t["windowSteps"]]
        low_r = min(q["ratio"] if q["ratio"] is not None else math.inf for q in window)
        high_viol = max(q["violationRate"] for q in window)
        rising = p["ratio"] is not None and p["ratio"] >= t["progressFactor"] * low_r
        falling = high_viol - p["violationRate"] >= t["progressViolationDrop"]
        factor = to_fixed(p["ratio"] / low_r, 2) if p["ratio"] is not None and low_r > 0 else "n/a"
        text = (
            f"R {fmt_r(low_r)} → {fmt_r(p['ratio'])} (×{factor}, progress needs ×{fmt(t['progressFactor'])}) "
            f"and violation rate {fmt(high_viol)} → {fmt(p['violationRate'])} since step {window[0]['step']}"
        )
        return {"stalled": not rising and not falling, "text": text}

    def _signature_text(self, p: dict) -> str:
        return f"item cosine {fmt(p['itemCosine'])} > {fmt(self.t['collapsedItemCosine'])} and R {fmt_r(p['ratio'])} < 1 since step {self.signature_since}"

    def _collapse_verdict(self, p: dict, why: str) -> dict:
        n = self.collapsing_streak + 1
        if p["signature"] and n >= self.t["collapsedSteps"]:
            return {"state": "collapsed", "reason": f"{why}; collapsing for {n} logged steps"}
        return {"state": "collapsing", "reason": why}

    def _before(self, p: dict) -> dict:
        t = self.t
        stall = self._stalled(p)
        if stall and stall["stalled"]:
            return self._collapse_verdict(p, f"{self._signature_text(p)}, no progress: {stall['text']}")
        not_yet = f"not separated yet: R {fmt_r(p['ratio'])} (best {fmt_r(self.best_ratio_before)}) < {fmt(t['separatedRatio'])}"
        if p["step"] >= self.never_separated_at:
            return {"state": "never-separated", "reason": f"{not_yet} after {p['step']} steps (limit {self.never_separated_at})"}
        if p["signature"]:
            progress = f"progress: {stall['text']}" if stall else f"watching for {t['windowSteps']} steps"
            return {"state": "initialising", "reason": f"{not_yet}; items bunched ({self._signature_text(p)}), {progress}"}
        return {"state": "initialising", "reason": not_yet}

    def _after(self, p: dict) -> dict:
        t = self.t
        best = self.best
        assert best is not None, "a separated run has a best point"
        rank = self.latest_effective_rank
        rules = [
            ("cosine", p["itemCosine"] >= best["itemCosine"] + t["cosineRise"], f"item cosine {fmt(p['itemCosine'])} up from its best {fmt(best['itemCosine'])} by > {fmt(t['cosineRise'])}"),
            (
                "ratio",
                p["ratio"] is not None and p["ratio"] <= 1 + t["ratioKeep"] * (best["ratio"] - 1),
                f"R {fmt_r(p['ratio'])} fell toward 1 from its best {fmt_r(best['ratio'])} (≤ {fmt_r(1 + t['ratioKeep'] * (best['ratio'] - 1))})",
            ),
            ("violation", p["violationRate"] >= best["violationRate"] + t["violationRise"], f"violation rate {fmt(p['violationRate'])} up from its best {fmt(best['violationRate'])} by > {fmt(t['violationRise'])}"),
            ("rank", rank is not None and rank < t["warningEffectiveRank"], f"effective rank {fmt(rank if rank is not None else math.nan)} < {fmt(t['warningEffectiveRank'])}"),
            ("signature", p["signature"], self._signature_text(p) if p["signature"] else ""),
        ]
        active, pending = [], []
        for name, holds, text in rules:
            n = self.streaks.get(name, 0) + 1 if holds else 0
            self.streaks[name] = n
            if n >= t["warningSteps"]:
                active.append((name, text))
            elif n > 0:
                pending.append(f"{text} for {n} of {t['warningSteps']} logged steps")

        def describe(rs):
            return "; ".join(f"{text} for {self.streaks[name]} logged steps" for name, text in rs)

        signature = [r for r in active if r[0] == "signature"]
        trends = [r for r in active if r[0] != "signature"]
        if signature:
            return self._collapse_verdict(p, f"separation lost after step {self.separated_at}: {describe(active)}")
        if len(trends) >= 2:
            return self._collapse_verdict(p, f"separation being lost after step {self.separated_at}: {describe(trends)}")
        if len(trends) == 1:
            parts = [describe(trends)] + ([f"pending: {'; '.join(pending)}"] if pending else [])
            return {"state": "warning", "reason": "; ".join(parts)}
        reason = f"pending: {'; '.join(pending)}" if pending else f"{HEALTHY_REASON} (separated at step {self.separated_at}, R {fmt_r(p['ratio'])})"
        return {"state": "healthy", "reason": reason}


#: A learned value at most this far above its floor is "at its bound" (src/core/metrics/learnedBoundWatch.ts).
BOUND_TOLERANCE = 1e-3
#: Consecutive logged steps a learned value must sit at its bound before the warning; also the growth rule's window.
BOUND_STEPS = 5
#: Above these a learned value has left any useful range (learnedBoundWatch.ts says why).
LEARNED_CEILINGS: Dict[str, float] = {"alpha": 2.0, "delta0": 1.0, "tau0": 1.0}
#: Growth (× its first logged value and × its lowest of the last BOUND_STEPS logged steps) that is a runaway.
RUNAWAY_FACTOR = 10
_LEARNED_SYMBOLS = {"alpha": "α", "delta0": "δ₀", "tau0": "τ₀"}


class LearnedBoundWatch:
    """Learned α / δ₀ / τ₀ (loss.trainable) that ran away (learnedBoundWatch.ts, the same rules and text): within
    BOUND_TOLERANCE of their floor, or above their ceiling, for BOUND_STEPS consecutive logged steps; or, before
    that, at least RUNAWAY_FACTOR × both the first logged value and the lowest of the last BOUND_STEPS logged
    steps. The warning names the value and the bound."""

    def __init__(self) -> None:
        self.runs = {"alpha": 0, "delta0": 0, "tau0": 0}
        self.over = {"alpha": 0, "delta0": 0, "tau0": 0}
        self.warned_up = {"alpha": False, "delta0": False, "tau0": False}
        self.first: Dict[str, Tuple[float, int]] = {}
        self.recent: Dict[str, List[float]] = {"alpha": [], "delta0": [], "tau0": []}

    def update(self, values: Dict[str, float], step: Optional[int] = None) -> Optional[str]:
        from .config import LEARNED_FLOORS

        at: List[str] = []
        for name in ("alpha", "delta0", "tau0"):
            if name not in values:
                continue
            v, floor, ceiling, sym = values[name], LEARNED_FLOORS[name], LEARNED_CEILINGS[name], _LEARNED_SYMBOLS[name]
            first_v, first_step = self.first.setdefault(name, (v, 1 if step is None else step))
            recent = self.recent[name]
            recent.append(v)
            del recent[:-BOUND_STEPS]
            self.runs[name] = self.runs[name] + 1 if v - floor <= BOUND_TOLERANCE else 0
            self.over[name] = self.over[name] + 1 if v > ceiling else 0
            if v <= ceiling:
                self.warned_up[name] = False
            growth = v / min(recent)
            if self.runs[name] >= BOUND_STEPS:
                at.append(f"learned {sym} {to_precision(v, 2)} at its floor {floor:g} for {self.runs[name]} logged steps")
            elif self.over[name] >= BOUND_STEPS or (self.over[name] > 0 and self.warned_up[name]):
                at.append(f"learned {sym} {to_precision(v, 2)} above its ceiling {ceiling:g} for {self.over[name]} logged steps")
            elif growth >= RUNAWAY_FACTOR and v >= RUNAWAY_FACTOR * first_v:
                self.warned_up[name] = True
                at.append(
                    f"learned {sym} {to_precision(v, 2)} grew ×{math.floor(growth)} within {len(recent)} logged steps, "
                    f"from {to_precision(first_v, 2)} at step {first_step}; ceiling {ceiling:g}"
                )
        return "; ".join(at) if at else None


def with_learned_bound(verdict: Dict[str, str], warning: Optional[str]) -> Dict[str, str]:
    """The verdict with a learned-bound warning: healthy / initialising become "warning" with it as the reason; any
    other state keeps its state and gains it in the reason."""
    if warning is None:
        return verdict
    if verdict["state"] in ("healthy", "initialising"):
        return {"state": "warning", "reason": warning}
    return {"state": verdict["state"], "reason": f"{verdict['reason']}; {warning}"}
