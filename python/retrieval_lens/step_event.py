"""The diagnostics of the `step` event of events.jsonl (docs/run-format.md §4.2) from a scored batch, for the PyTorch
trainer and `retrieval_lens.Lens` (the event itself: run_writer.step_event). Diagnostics are computed from the loss's own batch (q, the
candidates, the negative mask and δ/τ) as docs/diagnostics.md defines them."""

from __future__ import annotations

from typing import Any, Dict

import torch

from .diagnostics import hyper_range, step_diagnostics
from .losses import BatchLossOutput


def batch_diagnostics(out: BatchLossOutput, with_effective_rank: bool) -> Dict[str, Any]:
    """StepDiagnostics of one logged step: s(q_j, ·) and s(v_j, ·) against every candidate, the negative mask and
    δ/τ of the loss (`out`), the batch positives v of this rank (rows row_offset … row_offset + B − 1)."""
    B = out.q.shape[0]
    with torch.no_grad():
        q = out.q.detach()
        candidates = out.candidates.detach()
        v = candidates[out.row_offset : out.row_offset + B]
        s_qv = (q @ candidates.T).cpu()
        s_vv = (v @ candidates.T).cpu()
    kind, rng = hyper_range(out.config.as_config())
    return step_diagnostics(s_qv, s_vv, out.neg_mask.cpu().float(), out.hyper.cpu(), kind, rng, v.cpu(), with_effective_rank)
