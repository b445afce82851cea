"""The diagnostics of the `step` event of events.jsonl (docs/run-format.md §4.2) from a scored batch, for the PyTorch
trainer and `retrieval_lens.Lens` (the event itself: run_writer.step_event). Diagnostics are computed from the loss's own batch (q, the
candidates, the negative mask and δ/τ) as docs/diagnostics.md defines them."""

from __future__ import annotations

from typing import Any, Dict, Sequence

import torch

from .diagnostics import hyper_range, step_diagnostics
from .losses import BatchLossOutput
from .towers import query_scores
from .step_samples import Ref, sample_step


def _scores(out: BatchLossOutput):
    """s(q_j, ·) and s(v_j, ·) against every candidate, and the batch positives v of this rank."""
    B = out.q.shape[0]
    with torch.no_grad():
        q = out.q.detach()
        candidates = out.candidates.detach()
        v = candidates[out.row_offset : out.row_offset + B]
        return query_scores(q, candidates).cpu(), (v @ candidates.T).cpu(), v


def batch_diagnostics(out: BatchLossOutput, with_effective_rank: bool) -> Dict[str, Any]:
    """StepDiagnostics of one logged step: s(q_j, ·) and s(v_j, ·) against every candidate, the negative mask and
    δ/τ of the loss (`out`), the batch positives v of this rank (rows row_offset … row_offset + B − 1)."""
    s_qv, s_vv, v = _scores(out)
    kind, rng = hyper_range(out.config.as_config())
    return step_diagnostics(s_qv, s_vv, out.neg_mask.cpu().float(), out.hyper.cpu(), kind, rng, v.cpu(), with_effective_rank)


def batch_samples(out: BatchLossOutput, step: int, queries: Sequence[Ref], items: Sequence[Ref], item_texts: Sequence[str]) -> Dict[str, Any]:
    """`samples` and `suspectedFalseNegatives` of the step event (step_samples.sample_step) for rank 0 (row_offset 0:
    pair j's positive is candidate j): `queries` its B queries, `items` and `item_texts` the N candidates."""
    s_qv, s_vv, _ = _scores(out)
    B, N = s_qv.shape
    samples, suspected = sample_step(step, B, N, s_qv, s_vv, out.neg_mask.cpu().float(), out.hyper.detach().cpu(), queries, items, item_texts)
    return {"samples": samples, "suspectedFalseNegatives": suspected}
