"""The quality verdict after each live held-out evaluation, as src/core/quality/qualityVerdict.ts (the rules,
thresholds and reasons are documented there; test/fixtures/parity holds cases both sides must agree on, to the
character): is the model getting good at the real task, compared with BM25 on the same sample?

quality_verdict(held_out, bm25, in_batch) → {"state", "reason", "remedies"} with
  held_out: held-out exact recall@10 of every evaluation so far (≥ 1), in step order;
  bm25: BM25 recall@10 on the same sample (None: not computed); in_batch: smoothed in-batch recall@10 (None: no step logged).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Dict, List, Optional, Sequence, Union

SATURATED_IN_BATCH = 0.99
FAR_BELOW = 0.25
LEXICAL_MARGIN = 0.02
PLATEAU_WINDOW = 3
MIN_GAIN = 0.005


def f2(x: float) -> str:
    """x with two decimals as JavaScript's toFixed(2): the exact binary value, ties away from zero."""
    return str(Decimal(x).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _plural(n: int) -> str:
    return "" if n == 1 else "s"


def quality_verdict(held_out: Sequence[float], bm25: Optional[float], in_batch: Optional[float]) -> Dict[str, Union[str, List[str]]]:
    h = list(held_out)
    if not h:
        raise ValueError("quality_verdict: no held-out evaluation")
    now = h[-1]
    w = min(PLATEAU_WINDOW, len(h) - 1)
    recent = max(h[-w:]) if w > 0 else now
    before = max(h[:-w]) if w > 0 else None
    best = max(h)
    rising = before is not None and recent > before + MIN_GAIN
    vs_bm25 = "" if bm25 is None else f" (BM25 {f2(bm25)})"
    fell = f"; it fell to {f2(now)} from its best {f2(best)}" if now < best - 2 * LEXICAL_MARGIN else ""
    if in_batch is not None and in_batch >= SATURATED_IN_BATCH and now <= in_batch - FAR_BELOW:
        return {
            "state": "saturated",
            "reason": f"in-batch task saturated: in-batch recall@10 {f2(in_batch)} ≥ {SATURATED_IN_BATCH} while held-out recall@10 is {f2(now)}{vs_bm25}; the in-batch negatives are too easy to teach more",
            "remedies": ["hard-negatives", "larger-batch", "more-steps"],
        }
    if bm25 is not None and before is not None and recent < bm25 - LEXICAL_MARGIN and not rising:
        return {
            "state": "below-lexical",
            "reason": f"below the lexical baseline: held-out recall@10 {f2(recent)} (best of the last {w} evaluation{_plural(w)}) < BM25 {f2(bm25)} − {LEXICAL_MARGIN}, not rising{fell}",
            "remedies": ["hard-negatives", "more-steps", "larger-batch"],
        }
    if rising:
        assert before is not None
        return {
            "state": "learning",
            "reason": f"learning: held-out recall@10 reached {f2(recent)} in the last {w} evaluation{_plural(w)}, up from {f2(before)}{vs_bm25}",
            "remedies": ["more-steps"],
        }
    if len(h) > PLATEAU_WINDOW:
        assert before is not None
        return {
            "state": "plateau",
            "reason": f"plateau: held-out recall@10 gained {f2(recent - before)} (≤ {MIN_GAIN}) over the last {w} evaluations (best {f2(recent)}, before them {f2(before)}){vs_bm25}{fell}",
            "remedies": ["hard-negatives", "larger-batch"],
        }
    return {
        "state": "measuring",
        "reason": (
            f"first held-out evaluation: recall@10 {f2(now)}{vs_bm25}; the trend needs more"
            if before is None
            else f"held-out recall@10 {f2(now)} (best {f2(best)}){vs_bm25}: no trend over {len(h)} evaluations yet"
        ),
        "remedies": [],
    }
