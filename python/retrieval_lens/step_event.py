"""The `step` event of events.jsonl (docs/run-format.md §4.2) from a scored batch: the one place the PyTorch
trainer and `retrieval_lens.Lens` build it. Diagnostics are computed from the loss's own batch (q, the
candidates, the negative mask and δ/τ) as docs/diagnostics.md defines them."""

from __future__ import annotations

from typing import Any, Dict, Optional

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


def step_event(
    step: int,
    epoch: int,
    loss: float,
    loss_q: float,
    loss_sym: float,
    lr: Optional[float],
    grad_norm: Optional[float],
    step_ms: Optional[float],
    examples: int,
    diagnostics: Dict[str, Any],
    verdict: Dict[str, Any],
) -> Dict[str, Any]:
    """The step event (v, type and time are added by RunWriter.append_event). `examples` is the number of
    training pairs of the step (all ranks): examplesPerSec = examples · 1000 / stepMs (null without stepMs)."""
    return {
        "type": "step",
        "step": step,
        "epoch": epoch,
        "loss": loss,
        "lossQ": loss_q,
        "lossSym": loss_sym,
        "lr": lr,
        "gradNorm": grad_norm,
        "stepMs": step_ms,
        "examplesPerSec": examples * 1000 / step_ms if step_ms else None,
        "diagnostics": diagnostics,
        "verdict": verdict,
    }
