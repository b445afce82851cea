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

import math
from dataclasses import dataclass, field
from typing import Any, Dict, Hashable, List, Optional, Sequence, Union

import torch
import torch.nn.functional as F

from .collectives import Collectives
from .towers import query_scores
from .config import LEARNED_FLOORS, learned_hyper_problem

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
    #: Hyper-parameters learned as scalars (LearnedHyper); empty: all constants.
    trainable: List[str] = field(default_factory=lambda: list(_DEFAULTS["trainable"]))
    #: Adam learning rate of each learned θ (the schema's defaults for the names not given).
    trainableLearningRate: Dict[str, float] = field(default_factory=lambda: dict(_DEFAULTS["trainableLearningRate"]))
    #: Softmax only: "batch-similarity" (fixed τ or the paper's τ_ji) or "adap-tau" (per anchor, adap_tau_temperatures).
    temperatureRule: str = _DEFAULTS["temperatureRule"]
    #: t₂ of Adap-τ.
    adapTauScale: float = _DEFAULTS["adapTauScale"]

    @staticmethod
    def from_config(loss: Dict[str, Any]) -> "LossConfig":
        return LossConfig(**{k: loss[k] for k in LossConfig.__dataclass_fields__ if k in loss})

    def as_config(self) -> Dict[str, Any]:
        """The config's `loss` section (every key)."""
        out = {k: getattr(self, k) for k in LossConfig.__dataclass_fields__}
        out["trainable"] = list(self.trainable)
        out["trainableLearningRate"] = dict(self.trainableLearningRate)
        return out


@dataclass
class LossOutput:
    loss: torch.Tensor
    loss_q: torch.Tensor
    loss_sym: torch.Tensor
    #: [B, N] δ_ji / τ_ji of the query-anchored term (the constant for fixed losses), detached.
    hyper: torch.Tensor
    #: |J|, the rows with at least one valid negative.
    rows_with_negatives: int


def adaptive_margin(s: torch.Tensor, delta0: "Scalar", alpha: "Scalar") -> torch.Tensor:
    """Adaptive margin (linear form): δ_ji = δ₀ + α·(1 − s), s = s(v_j, v_i) (sg unless disabled)."""
    return delta0 + alpha * (1 - s)


def adaptive_temperature(s: torch.Tensor, tau0: "Scalar", alpha: "Scalar") -> torch.Tensor:
    """Adaptive temperature (linear form): τ_ji = τ₀·(1 + α·(1 − s)), s = s(v_j, v_i) (sg unless disabled)."""
    return tau0 * (1 + alpha * (1 - s))


#: A scalar config value or a learned one (a 0-d tensor carrying its gradient).
Scalar = Union[float, torch.Tensor]


class LearnedHyper(torch.nn.Module):
    """The learned α / δ₀ / τ₀ of `cfg.trainable`: one raw scalar θ each (float64), value = floor + softplus(θ).
    `optimizer()` gives an Adam with each θ in its own group at its own learning rate (ε 1e-7, as the TypeScript
    trainer's Adam)."""

    def __init__(self, cfg: LossConfig):
        super().__init__()
        self.cfg = cfg
        self.theta = torch.nn.ParameterDict()
        for name in cfg.trainable:
            problem = learned_hyper_problem(cfg.as_config(), name)
            if problem:
                raise ValueError(f'loss.trainable "{name}": {problem}')
            y = float(getattr(cfg, name)) - LEARNED_FLOORS[name]
            self.theta[name] = torch.nn.Parameter(torch.tensor(y if y > 30 else math.log(math.expm1(y)), dtype=torch.float64))

    def values(self) -> Dict[str, torch.Tensor]:
        """name → the current value (a 0-d tensor carrying the gradient to θ)."""
        return {n: LEARNED_FLOORS[n] + F.softplus(p) for n, p in self.theta.items()}

    def floats(self) -> Dict[str, float]:
        return {n: float(v) for n, v in self.values().items()}

    def optimizer(self) -> Optional[torch.optim.Optimizer]:
        if len(self.theta) == 0:
            return None
        return torch.optim.Adam([{"params": [p], "lr": self.cfg.trainableLearningRate.get(n, _DEFAULTS_LR[n])} for n, p in self.theta.items()], eps=1e-7)


#: The schema's default learning rate of each learned θ (loss.trainableLearningRate).
_DEFAULTS_LR: Dict[str, float] = experiment_defaults("loss", "trainableLearningRate")


def lambert_w(z: torch.Tensor) -> torch.Tensor:
    """Principal branch W(z) (w·eʷ = z) for z ≥ −1/e, float64, by Halley's iteration (adapTau.ts' lambertW)."""
    z = z.double()
    p = torch.sqrt(torch.clamp(2 * (math.e * z + 1), min=0))
    big = torch.log(torch.clamp(z, min=3))
    w = torch.where(z < -0.25, -1 + p - p * p / 3, torch.where(z < 3, torch.log1p(torch.clamp(z, min=-0.25)) * 0.8, big - torch.log(big)))
    for _ in range(50):
        ew = torch.exp(w)
        f = w * ew - z
        wp1 = w + 1
        step = f / (ew * wp1 - (w + 2) * f / (2 * wp1))
        step = torch.where((f == 0) | (wp1 == 0) | ~torch.isfinite(step), torch.zeros_like(step), step)
        w = w - step
        if bool((step.abs() <= 1e-15 * (1 + w.abs())).all()):
            break
    return w


def adap_tau_temperatures(pos: torch.Tensor, cand: torch.Tensor, mask: torch.Tensor, rows: torch.Tensor, t2: float) -> torch.Tensor:
    """Adap-τ (WWW 2023, arXiv 2302.04775; code junkangwu/Adap_tau modules/MF_tau.py `_loss_to_tau`, "weight_mean") per
    anchor row, as src/core/losses/adapTau.ts: x_j = log Σ_{i∈N(j)} exp(neg_ji) − pos_j (sg), z_j = clamp((x_j − mean_J x)/t₂,
    −1/e, 1000), returns exp(W(z_j)) [B, 1] (τ_j = τ₀·exp(W(z_j)); 1 for a row without negatives). Held constant."""
    with torch.no_grad():
        c = torch.where(mask, cand.detach().double(), torch.full_like(cand, float("-inf"), dtype=torch.float64))
        x = torch.logsumexp(c, 1) - pos.detach().double()
        x = torch.where(rows, x, torch.zeros_like(x))
        n = int(rows.sum())
        mean = x.sum() / max(n, 1)
        z = torch.clamp((x - mean) / t2, min=-1 / math.e, max=1000.0)
        f = torch.exp(lambert_w(z))
        f = torch.where(rows, f, torch.ones_like(f))
    return f.to(cand.dtype)[:, None]


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
    pos: torch.Tensor,
    cand: torch.Tensor,
    ref: torch.Tensor,
    mask: torch.Tensor,
    cfg: LossConfig,
    rows: torch.Tensor,
    denominator: int,
    learned: Optional[Dict[str, torch.Tensor]] = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """One anchor side: (1/|J|) Σ_{j∈J} ℓ(j) with candidate scores `cand`, δ/τ from the reference scores
    `ref` (held constant, sg, when cfg.stopGradient) — or, with temperatureRule "adap-tau", τ_j per anchor row
    (adap_tau_temperatures). `denominator` is |J| (of the whole, possibly all-gathered, batch); `rows` marks J.
    `learned` replaces α / δ₀ / τ₀ by learned values (LearnedHyper.values()). Returns (side loss, δ/τ [B, N])."""
    r = ref.detach() if cfg.stopGradient else ref
    if cfg.adaptiveForm != "linear":
        raise ValueError(f'unknown adaptive form "{cfg.adaptiveForm}"; known: linear')
    lv = learned or {}
    alpha: Scalar = lv.get("alpha", cfg.alpha)
    tau0: Scalar = lv.get("tau0", cfg.tau0)
    delta0: Scalar = lv.get("delta0", cfg.delta0)
    if cfg.type == "softmax" and cfg.temperatureRule == "adap-tau":
        hyper = tau0 * adap_tau_temperatures(pos, cand, mask, rows, cfg.adapTauScale).expand_as(cand)
        per_row = softmax_rows(pos, cand, hyper, mask)
    elif cfg.type == "softmax":
        hyper = adaptive_temperature(r, tau0, alpha) if cfg.adaptive else torch.full_like(cand, cfg.temperature)
        per_row = softmax_rows(pos, cand, hyper, mask)
    else:
        hyper = adaptive_margin(r, delta0, alpha) if cfg.adaptive else torch.full_like(cand, cfg.margin)
        per_row = margin_rows(pos, cand, hyper, mask)
    per_row = torch.where(rows, per_row, torch.zeros_like(per_row))
    return per_row.sum() / denominator, hyper.detach()


def has_symmetric_term(cfg: LossConfig) -> bool:
    """The symmetric term contributes when it is on and its weight w ≠ 0 (symmetricTerm.ts)."""
    return cfg.symmetric and cfg.symmetricWeight != 0


def retrieval_loss(
    q: torch.Tensor,
    items: torch.Tensor,
    neg_mask: torch.Tensor,
    cfg: LossConfig,
    rows_with_negatives: Optional[int] = None,
    row_offset: int = 0,
    learned: Optional[Dict[str, torch.Tensor]] = None,
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
    s_qv = query_scores(q, items)  # q [B, K, D] with DPSR's multi-head query tower (towers/dpsr.py)
    s_vv = v @ items.T
    pos = (q * v).sum(1) if q.dim() == 2 else s_qv[torch.arange(B), row_offset + torch.arange(B)]
    rows = mask.any(1)
    n_rows = int(rows.sum()) if rows_with_negatives is None else rows_with_negatives
    denominator = max(n_rows, 1)
    loss_q, hyper = anchored_side(pos, s_qv, s_vv, mask, cfg, rows, denominator, learned)
    if has_symmetric_term(cfg):
        loss_sym, _ = anchored_side(pos, s_vv, s_qv, mask, cfg, rows, denominator, learned)
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


def negative_mask(
    ids: Optional[Sequence[Hashable]],
    width: int,
    row_offset: int,
    B: int,
    neg_ids: Optional[Sequence[Hashable]],
    owners: Optional[Sequence[int]],
    n_neg: int,
    text_keys: Optional[Sequence[Hashable]] = None,
    neg_text_keys: Optional[Sequence[Hashable]] = None,
) -> torch.Tensor:
    """negMask [B, width + n_neg] of the rows j = row_offset … row_offset + B − 1 of `width` in-batch positives
    followed by n_neg explicit negatives (batcher.ts): in-batch i is a negative of j when id_i ≠ id(v_j) (so
    i ≠ j: an item is never its own negative; a repeated item is an accidental hit, masked); explicit negative
    k when its owner is j (`owners` None, or an owner of -1: shared by every row) and id_k ≠ id(v_j). `ids` None: every
    in-batch row is a distinct item; `neg_ids` None: no explicit negative is one of the positives.
    `text_keys` (the `width` positives' normalised texts) and `neg_text_keys` (the explicit negatives'), given with
    data.maskDuplicateNegatives: a candidate with the positive's normalised text is masked too, whatever its id."""
    mask = _id_mask(ids, width, row_offset, B, neg_ids, owners, n_neg)
    if text_keys is None:
        return mask
    keys = list(text_keys) + (list(neg_text_keys) if neg_text_keys is not None and n_neg > 0 else [None] * n_neg)
    own = [text_keys[row_offset + j] for j in range(B)]
    same = torch.tensor([[k is not None and k == own[j] for k in keys] for j in range(B)], dtype=torch.bool)
    return mask & ~same


def _id_mask(
    ids: Optional[Sequence[Hashable]], width: int, row_offset: int, B: int, neg_ids: Optional[Sequence[Hashable]], owners: Optional[Sequence[int]], n_neg: int
) -> torch.Tensor:
    codes: Dict[Hashable, int] = {}
    c = torch.tensor([codes.setdefault(i, len(codes)) for i in ids] if ids is not None else list(range(width)), dtype=torch.long)
    own = c[row_offset : row_offset + B]
    in_batch = own[:, None] != c[None, :]
    if n_neg == 0:
        return in_batch
    if neg_ids is not None:
        n = torch.tensor([codes.get(i, -1) for i in neg_ids], dtype=torch.long)
        explicit = own[:, None] != n[None, :]
    else:
        explicit = torch.ones(B, n_neg, dtype=torch.bool)
    if owners is not None:
        o = torch.tensor(list(owners), dtype=torch.long)[None, :]
        explicit = explicit & ((torch.arange(B)[:, None] == o) | (o < 0))
    return torch.cat([in_batch, explicit], 1)


@dataclass
class BatchLossOutput(LossOutput):
    """What a loss module returns (and `Lens.log` reads): the loss parts, δ/τ, and the batch as it was scored."""

    #: [B, D] the query embeddings scored (unit vectors).
    q: torch.Tensor = field(default_factory=lambda: torch.zeros(0))
    #: [N, D] the candidates: every rank's positives (this rank's at rows row_offset … row_offset + B − 1), then explicit negatives.
    candidates: torch.Tensor = field(default_factory=lambda: torch.zeros(0))
    #: [B, N] bool, the valid negatives N(j).
    neg_mask: torch.Tensor = field(default_factory=lambda: torch.zeros(0))
    row_offset: int = 0
    config: LossConfig = field(default_factory=LossConfig)
    #: The ranks whose positives are candidates (1 without the gather).
    world: int = 1


def batch_loss(
    q: torch.Tensor,
    v: torch.Tensor,
    negatives: Optional[torch.Tensor],
    ids: Optional[Sequence[Hashable]],
    neg_ids: Optional[Sequence[Hashable]],
    owners: Optional[Sequence[int]],
    cfg: LossConfig,
    comm: Optional[Collectives] = None,
    learned: Optional[Dict[str, torch.Tensor]] = None,
    text_keys: Optional[Sequence[Hashable]] = None,
    neg_text_keys: Optional[Sequence[Hashable]] = None,
) -> BatchLossOutput:
    """The loss of this rank's B pairs (q [B, D], v [B, D]) against the positives of every rank of `comm`
    (all-gathered; gradients flow back to each rank's own rows) and its own explicit negatives [M, D]
    (owners[k] = the pair owning negative k, None = shared by all). Every rank must have the same B.
    `loss` is this rank's share Σ_{j∈J_r} ℓ(j) / |J| of the global loss (the ranks' shares sum to it).
    `text_keys` / `neg_text_keys`: this rank's positives' and negatives' normalised texts, to mask same-text negatives
    (data.maskDuplicateNegatives; all-gathered like the ids)."""
    comm = comm or Collectives()
    B = q.shape[0]
    offset = comm.rank * B
    ids_all = [i for part in comm.gather_objects(list(ids)) for i in part] if ids is not None else None
    n_neg = 0 if negatives is None else negatives.shape[0]
    texts_all = [k for part in comm.gather_objects(list(text_keys)) for k in part] if text_keys is not None else None
    mask = negative_mask(ids_all, comm.world * B, offset, B, neg_ids, owners, n_neg, texts_all, neg_text_keys).to(q.device)
    gathered = comm.gather_items(v)
    candidates = gathered if negatives is None or n_neg == 0 else torch.cat([gathered, negatives], 0)
    rows_global = int(comm.sum([float(mask.any(1).sum())])[0])
    out = retrieval_loss(q, candidates, mask, cfg, rows_with_negatives=rows_global, row_offset=offset, learned=learned)
    return BatchLossOutput(out.loss, out.loss_q, out.loss_sym, out.hyper, out.rows_with_negatives, q, candidates, mask, offset, cfg, comm.world)


IdsLike = Union[Sequence[Hashable], torch.Tensor]


def _id_list(ids: Optional[IdsLike], name: str, expected: int) -> Optional[List[Hashable]]:
    if ids is None:
        return None
    if isinstance(ids, torch.Tensor):
        out: List[Hashable] = ids.reshape(-1).tolist()
    else:  # a list, or a list of per-pair lists ([B][K] negative ids)
        out = [i for row in ids for i in row] if len(ids) > 0 and isinstance(ids[0], (list, tuple)) else list(ids)  # pyright: ignore[reportGeneralTypeIssues]
    if len(out) != expected:
        raise ValueError(f"{name}: expected {expected} ids, got {len(out)}")
    return out


class RetrievalLoss(torch.nn.Module):
    """The common forward of the four loss modules (use one of them; the formulas are in their docstrings).

    forward(query [B, D], positive [B, D], negatives=None, ids=None, negative_ids=None) → BatchLossOutput

    - query, positive: pair j is (query[j], positive[j]). Normalised to unit length first unless
      `normalize=False` (the scores s(a, b) = aᵀb are cosines, as in the paper).
    - negatives: None (in-batch negatives only), [B, K, D] (K explicit negatives of each pair) or [M, D]
      (M negatives shared by every pair). They are candidates beside the other pairs' positives.
    - ids: [B] item ids of the positives (a list of str/int or an integer tensor). Pairs whose positives share an
      id are not each other's negatives (accidental hits); without ids every pair's positive is a distinct item.
    - negative_ids: [B, K] or [M] ids of the explicit negatives; one equal to a pair's positive id is left out of
      that pair's negatives.
    - gather_across_ranks=True under torch.distributed: every rank's positives (and ids) are all-gathered, so each
      query is scored against the positives of all ranks; gradients flow back to each rank's own rows. Every rank
      must pass the same B. `loss` is then this rank's share of the global loss times the world size, so
      DistributedDataParallel's gradient averaging yields the gradient of the global-batch loss.

    Returns a BatchLossOutput: `loss` (call `.backward()` on it), `loss_q`, `loss_sym` (unweighted), `hyper` [B, N]
    (δ_ji or τ_ji, detached) and the scored batch, which `retrieval_lens.Lens.log` turns into a step event.
    """

    def __init__(self, cfg: LossConfig, normalize: bool = True, gather_across_ranks: bool = False):
        super().__init__()
        if cfg.symmetricWeight < 0:
            raise ValueError(f"symmetric_weight must be >= 0, got {cfg.symmetricWeight}")
        self.cfg = cfg
        self.normalize = normalize
        self.gather_across_ranks = gather_across_ranks

    def forward(
        self,
        query: torch.Tensor,
        positive: torch.Tensor,
        negatives: Optional[torch.Tensor] = None,
        ids: Optional[IdsLike] = None,
        negative_ids: Optional[IdsLike] = None,
    ) -> BatchLossOutput:
        if query.dim() != 2 or positive.shape != query.shape:
            raise ValueError(f"query and positive must both be [B, D]; got query {list(query.shape)}, positive {list(positive.shape)}")
        B, D = query.shape
        owners: Optional[List[int]] = None
        flat: Optional[torch.Tensor] = None
        if negatives is not None:
            if negatives.dim() == 3 and negatives.shape[0] == B and negatives.shape[2] == D:
                K = negatives.shape[1]
                flat = negatives.reshape(B * K, D)
                owners = [j for j in range(B) for _ in range(K)]
            elif negatives.dim() == 2 and negatives.shape[1] == D:
                flat = negatives
            else:
                raise ValueError(f"negatives must be [B, K, D] = [{B}, K, {D}] or [M, {D}]; got {list(negatives.shape)}")
        if self.normalize:
            query, positive = F.normalize(query, dim=-1), F.normalize(positive, dim=-1)
            flat = F.normalize(flat, dim=-1) if flat is not None else None
        comm = Collectives.current(query.device) if self.gather_across_ranks else Collectives(device=query.device)
        out = batch_loss(
            query,
            positive,
            flat,
            _id_list(ids, "ids", B),
            _id_list(negative_ids, "negative_ids", 0 if flat is None else flat.shape[0]),
            owners,
            self.cfg,
            comm,
        )
        if comm.world > 1:
            out.loss, out.loss_q, out.loss_sym = out.loss * comm.world, out.loss_q * comm.world, out.loss_sym * comm.world
        return out


class AdaptiveSoftmaxLoss(RetrievalLoss):
    """The paper's adaptive-temperature softmax loss (its best method), with the symmetric term.

    ℓ(j) = log(1 + Σ_{i∈N(j)} exp((s(q_j, v_i) − s(q_j, v_j)) / τ_ji)),  τ_ji = τ₀·(1 + α·(1 − sg[s(v_j, v_i)]))
    ℓ_sym(j): the same anchored on v_j (candidates s(v_j, ·), τ from sg[s(q_j, ·)]);  L = mean_j ℓ + w·mean_j ℓ_sym
    Shapes: see RetrievalLoss (query, positive [B, D]; negatives [B, K, D] or [M, D]; ids [B]).
    """

    def __init__(
        self,
        alpha: float = 0.5,
        tau0: float = 1 / 30,
        stop_gradient: bool = True,
        symmetric: bool = True,
        symmetric_weight: float = 0.05,
        normalize: bool = True,
        gather_across_ranks: bool = False,
    ):
        cfg = LossConfig(type="softmax", adaptive=True, alpha=alpha, tau0=tau0, stopGradient=stop_gradient, symmetric=symmetric, symmetricWeight=symmetric_weight)
        super().__init__(cfg, normalize, gather_across_ranks)


class AdapTauSoftmaxLoss(RetrievalLoss):
    """The softmax loss with Adap-τ's temperature per anchor (WWW 2023, arXiv 2302.04775; adap_tau_temperatures).

    ℓ(j) = log(1 + Σ_{i∈N(j)} exp((s(q_j, v_i) − s(q_j, v_j)) / τ_j)),  τ_j = τ₀·exp(W(clamp((x_j − mean x)/t₂, −1/e, 1000)))
    x_j = log Σ_{i∈N(j)} exp(s(q_j, v_i)) − s(q_j, v_j) (sg);  ℓ_sym(j): the same anchored on v_j;  L = mean_j ℓ + w·mean_j ℓ_sym
    Shapes: see RetrievalLoss.
    """

    def __init__(
        self,
        tau0: float = 1 / 30,
        adap_tau_scale: float = 1.0,
        symmetric: bool = True,
        symmetric_weight: float = 0.05,
        normalize: bool = True,
        gather_across_ranks: bool = False,
    ):
        cfg = LossConfig(type="softmax", temperatureRule="adap-tau", tau0=tau0, adapTauScale=adap_tau_scale, symmetric=symmetric, symmetricWeight=symmetric_weight)
        super().__init__(cfg, normalize, gather_across_ranks)


class AdaptiveMarginLoss(RetrievalLoss):
    """The paper's adaptive-margin hinge loss, with the symmetric term.

    ℓ(j) = (1/|N(j)|) Σ_{i∈N(j)} max(0, δ_ji − s(q_j, v_j) + s(q_j, v_i)),  δ_ji = δ₀ + α·(1 − sg[s(v_j, v_i)])
    ℓ_sym(j): the same anchored on v_j;  L = mean_j ℓ + w·mean_j ℓ_sym
    Shapes: see RetrievalLoss.
    """

    def __init__(
        self,
        alpha: float = 0.5,
        delta0: float = 0.01,
        stop_gradient: bool = True,
        symmetric: bool = True,
        symmetric_weight: float = 0.05,
        normalize: bool = True,
        gather_across_ranks: bool = False,
    ):
        cfg = LossConfig(type="margin", adaptive=True, alpha=alpha, delta0=delta0, stopGradient=stop_gradient, symmetric=symmetric, symmetricWeight=symmetric_weight)
        super().__init__(cfg, normalize, gather_across_ranks)


class SoftmaxLoss(RetrievalLoss):
    """The fixed-temperature softmax (InfoNCE) baseline.

    ℓ(j) = log(1 + Σ_{i∈N(j)} exp((s(q_j, v_i) − s(q_j, v_j)) / τ)),  L = mean_j ℓ + w·mean_j ℓ_sym (symmetric)
    Shapes: see RetrievalLoss.
    """

    def __init__(
        self, temperature: float = 1 / 30, symmetric: bool = True, symmetric_weight: float = 0.05, normalize: bool = True, gather_across_ranks: bool = False
    ):
        cfg = LossConfig(type="softmax", adaptive=False, temperature=temperature, symmetric=symmetric, symmetricWeight=symmetric_weight)
        super().__init__(cfg, normalize, gather_across_ranks)


class MarginLoss(RetrievalLoss):
    """The fixed-margin hinge baseline.

    ℓ(j) = (1/|N(j)|) Σ_{i∈N(j)} max(0, δ − s(q_j, v_j) + s(q_j, v_i)),  L = mean_j ℓ + w·mean_j ℓ_sym (symmetric)
    Shapes: see RetrievalLoss.
    """

    def __init__(self, margin: float = 0.1, symmetric: bool = True, symmetric_weight: float = 0.05, normalize: bool = True, gather_across_ranks: bool = False):
        cfg = LossConfig(type="margin", adaptive=False, margin=margin, symmetric=symmetric, symmetricWeight=symmetric_weight)
        super().__init__(cfg, normalize, gather_across_ranks)

