"""DPSR multi-head query tower (model.preset "dpsr"), the PyTorch half of src/core/model/towers/dpsr.ts: Zhang et al.,
"Towards Personalized and Semantic Retrieval: An End-to-End Solution for E-commerce Search via Embedding Learning",
SIGIR 2020 (arXiv 2006.02282), §3 "Multi-Head Design" and "Attention Loss". The query tower gives K unit embeddings
e_1..e_K (K output layers on the shared embedding bag and hidden layer: model.Tower with heads=K), the item tower one
unit embedding g; the score is the attention-weighted sum of the K inner products:
    c_k = e_kᵀg,   w_k = softmax_k(c_k / β),   s(q, v) = Σ_k w_k c_k          (β = DPSR_BETA)
Shapes: q [B, K, D], items [N, D] → s [B, N]. Autograd gives the gradient (checked against the TypeScript
hand-written backward on test/fixtures/parity/dpsr.json)."""

from __future__ import annotations

import torch

#: β, the softmax temperature over heads (as towers/dpsr.ts).
DPSR_BETA = 0.1
#: K when model.queryHeads is absent.
DPSR_DEFAULT_HEADS = 2


def dpsr_scores(q: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
    """s [B, N] of multi-head queries q [B, K, D] against items [N, D]."""
    c = torch.einsum("bkd,nd->bnk", q, items)
    w = torch.softmax(c / DPSR_BETA, dim=2)
    return (w * c).sum(2)
