"""Tower presets (model.preset), mirroring src/core/model/towers/index.ts: the dispatch point between the tower designs
of the compared systems. Each design in its own module beside this one (dpsr.py: DPSR's multi-head query tower and its
attention score; "dssm" is the one-embedding tower of model.py, scored by the dot product)."""

from __future__ import annotations

from typing import Mapping

import torch

from .dpsr import DPSR_DEFAULT_HEADS, dpsr_scores


def preset_of(model: Mapping) -> str:
    """The preset of a model config; "dssm" for configs and checkpoints written before presets existed."""
    return str(model.get("preset") or "dssm")


def query_heads_of(model: Mapping) -> int:
    """Embeddings the query tower gives per query: model.queryHeads (default 2) with dpsr, else 1."""
    return int(model.get("queryHeads") or DPSR_DEFAULT_HEADS) if preset_of(model) == "dpsr" else 1


def query_scores(q: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
    """s(q_j, items_n) [B, N]: the dot product of q [B, D], or DPSR's attention score of q [B, K, D] (K heads)."""
    return dpsr_scores(q, items) if q.dim() == 3 else q @ items.T
