"""The training losses, the same formulas as src/core/losses/ (README "Model and losses").

A batch of B pairs (q_j, v_j) and N >= B candidate items: rows 0..B-1 the pairs' positives v, rows
B..N-1 explicit negatives. s(a, b) = aᵀb on unit vectors; N(j) = {i : neg_mask[j, i]} are the valid
negatives of pair j (i ≠ j, id(item_i) ≠ id(v_j); an explicit negative only for its own example);
sg = stop-gradient (`detach`).

    L = mean_j ℓ(j) + w · mean_j ℓ_sym(j),   mean_j over J = {j : |N(j)| ≥ 1} (0 when J is empty)

A NaN or ±Infinity in any used score (pos_j or a score at a valid negative, either anchor) makes the
loss NaN on every variant, so the trainer fails the step naming it (lossAndGrad.ts does the same).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import torch

from .schemas import experiment_defaults


#: The config's `loss` defaults (schemas/experiment.schema.json): the paper's setting.
_DEFAULTS = experiment_defaults("loss")


@dataclass(frozen=True)
class LossConfig:
    """The config's `loss` section (src/core/losses/types.ts), with the schema's defaults."""

    type: str = _DEFAULTS["type"]
    adaptive: bool = _DEFAULTS["adaptive"]
    adaptiveForm: str = _DEFAULTS["adaptiveForm"]
    margin: float = _DEFAULTS["margin"]
    temperature: float = _DEFAULTS["temperature"]
    alpha: float = _DEFAULTS["alpha"]
    delta0: float = _DEFAULTS["delta0"]
    tau0: float = _DEFAULTS["tau0"]
    stopGradient: bool = _DEFAULTS["stopGradient"]
    symmetric: bool = _DEFAULTS["symmetric"]
    symmetricWeight: float = _DEFAULTS["symmetricWeight"]

    @staticmethod
    def from_config(loss: dict) -> "LossConfig":
        return LossConfig(**{k: loss[k] for k in LossConfig.__dataclass_fields__ if k in loss})


@dataclass
class LossOutput:
    loss: torch.Tensor
    loss_q: torch.Tensor
    loss_sym: torch.Tensor
    #: [B, N] δ_ji / τ_ji of the query-anchored term (the constant for fixed losses), detached.
    hyper: torch.Tensor
    #: |J|, the rows with at least one valid negative.
    rows_with_negatives: int


def adaptive_margin(s: torch.Tensor, delta0: float, alpha: float) -> torch.Tensor:
    """Adaptive margin (linear form): δ_ji = δ₀ + α·(1 − s), s = s(v_j, v_i) (sg unless disabled)."""
    return delta0 + alpha * (1 - s)


def adaptive_temperature(s: torch.Tensor, tau0: float, alpha: float) -> torch.Tensor:
    """Adaptive temperature (linear form): τ_ji = τ₀·(1 + α·(1 − s)), s = s(v_j, v_i) (sg unless disabled)."""
    return tau0 * (1 + alpha * (1 - s))


def margin_rows(pos: torch.Tensor, neg: torch.Tensor, delta: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Margin (hinge) loss per row: ℓ(j) = (1/|N(j)|) Σ_{i∈N(j)} max(0, δ_ji − pos_j + neg_ji).

    pos [B], neg / delta [B, N], mask [B, N] bool. A row without negatives gives 0 (left out by the mean).
    """
    hinge = torch.relu(delta - pos[:, None] + neg)
    total = torch.where(mask, hinge, torch.zeros_like(hinge)).sum(1)
    return total / mask.sum(1).clamp(min=1)


def softmax_rows(pos: torch.Tensor, neg: torch.Tensor, tau: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Softmax (InfoNCE) loss per row, the cross-entropy of the positive among {v_j} ∪ N(j):
    ℓ(j) = log(1 + Σ_{i∈N(j)} exp(z_ji)),  z_ji = (neg_ji − pos_j) / τ_ji   (a stable logsumexp).
    """
    z = (neg - pos[:, None]) / tau
    z = torch.where(mask, z, torch.full_like(z, float("-inf")))
    return torch.logsumexp(torch.cat([torch.zeros_like(z[:, :1]), z], 1), 1)


def anchored_side(
    pos: torch.Tensor, cand: torch.Tensor, ref: torch.Tensor, mask: torch.Tensor, cfg: LossConfig, rows: torch.Tensor, denominator
) -> tuple[torch.Tensor, torch.Tensor]:
    """One anchor side: (1/|J|) Σ_{j∈J} ℓ(j) with candidate scores `cand`, δ/τ from the reference scores
    `ref` (held constant, sg, when cfg.stopGradient). `denominator` is |J| (of the whole, possibly
    all-gathered, batch); `rows` marks J. Returns (side loss, δ/τ [B, N])."""
    r = ref.detach() if cfg.stopGradient else ref
    if cfg.adaptiveForm != "linear":
        raise ValueError(f'unknown adaptive form "{cfg.adaptiveForm}"; known: linear')
    if cfg.type == "softmax":
        hyper = adaptive_temperature(r, cfg.tau0, cfg.alpha) if cfg.adaptive else torch.full_like(cand, cfg.temperature)
        per_row = softmax_rows(pos, cand, hyper, mask)
    else:
        hyper = adaptive_margin(r, cfg.delta0, cfg.alpha) if cfg.adaptive else torch.full_like(cand, cfg.margin)
        per_row = margin_rows(pos, cand, hyper, mask)
    per_row = torch.where(rows, per_row, torch.zeros_like(per_row))
    return per_row.sum() / denominator, hyper.detach()


def has_symmetric_term(cfg: LossConfig) -> bool:
    """The symmetric term contributes when it is on and its weight w ≠ 0 (symmetricTerm.ts)."""
    return cfg.symmetric and cfg.symmetricWeight != 0


def retrieval_loss(
    q: torch.Tensor, items: torch.Tensor, neg_mask: torch.Tensor, cfg: LossConfig, rows_with_negatives: Optional[int] = None, row_offset: int = 0
) -> LossOutput:
    """L = mean_j ℓ(j) + w · mean_j ℓ_sym(j) for the anchors q [B, D] against the candidates items [N, D].

    ℓ anchored on q_j: pos_j = s(q_j, v_j), candidates s(q_j, items_i), δ/τ from sg[s(v_j, items_i)];
    ℓ_sym anchored on v_j (the symmetric term): pos_j = s(v_j, q_j), candidates s(v_j, items_i),
    δ/τ from sg[s(q_j, items_i)]; both over the same N(j) = neg_mask[j].
    With DDP the candidates are the all-gathered batch: the positives of pair j sit at row
    `row_offset + j` of `items`, and `rows_with_negatives` is |J| of the global batch (default: of this one).
    """
    B = q.shape[0]
    v = items[row_offset : row_offset + B]
    mask = neg_mask.bool()
    s_qv = q @ items.T
    s_vv = v @ items.T
    pos = (q * v).sum(1)
    rows = mask.any(1)
    n_rows = int(rows.sum()) if rows_with_negatives is None else rows_with_negatives
    denominator = max(n_rows, 1)
    loss_q, hyper = anchored_side(pos, s_qv, s_vv, mask, cfg, rows, denominator)
    if has_symmetric_term(cfg):
        loss_sym, _ = anchored_side(pos, s_vv, s_qv, mask, cfg, rows, denominator)
        loss = loss_q + cfg.symmetricWeight * loss_sym
    else:
        loss_sym = torch.zeros((), dtype=q.dtype)
        loss = loss_q
    # A non-finite score can still give a finite loss (a −∞ hinge, an unused symmetric half): the step
    # must fail anyway, so any non-finite used score or positive makes the loss NaN.
    used = torch.where(mask, s_qv + s_vv, torch.zeros_like(s_qv)).sum() + torch.where(rows, pos, torch.zeros_like(pos)).sum()
    if not bool(torch.isfinite(used.detach())):
        loss = loss + float("nan")
    return LossOutput(loss, loss_q, loss_sym, hyper, n_rows)
