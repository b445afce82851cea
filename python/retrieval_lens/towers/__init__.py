"""Tower presets (model.preset), mirroring src/core/model/towers/index.ts (docs/towers.md): the dispatch point between
the tower designs of the compared systems, each in its own module beside this one. "dssm": the one-embedding tower of
model.py on one bag of words + trigrams, scored by the dot product; "dpsr" (dpsr.py): DPSR's multi-head query tower
and its attention score; "mgdspr" (mgdspr.py): the multi-granular query tower (three bags and their mix). The item
tower is the DSSM tower in every preset."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, List, Mapping, Optional, Sequence

from ..features import featurize, featurize_options
from .mgdspr import MGDSPR_GRANULES, MGDSPR_PARTS, granules, mgdspr_query_features

if TYPE_CHECKING:
    import torch

# dpsr.py (and torch) are imported where they are used: the config checks import this package without needing torch.
TOWER_PRESETS = ("dssm", "dpsr", "mgdspr")
MGDSPR_SHARED_MESSAGE = 'the "mgdspr" query tower has its own input layer (4 × embeddingDim), so towers cannot be shared: set model.sharedTowers to false'
DPSR_SHARED_MESSAGE = 'cannot be true with model.preset "dpsr": the multi-head query tower and the one-embedding item tower differ'


def tower_preset(model: Mapping) -> str:
    """The preset of a model config (or a checkpoint's); "dssm" for those written before presets existed."""
    p = model.get("preset") or "dssm"
    if p not in TOWER_PRESETS:
        raise ValueError(f"{p!r} is not a tower preset ({', '.join(TOWER_PRESETS)})")
    return str(p)


def query_heads_of(model: Mapping) -> int:
    """Embeddings the query tower gives per query: model.queryHeads (default 2) with dpsr, else 1."""
    from .dpsr import DPSR_DEFAULT_HEADS

    return int(model.get("queryHeads") or DPSR_DEFAULT_HEADS) if tower_preset(model) == "dpsr" else 1


def tower_problems(model: Mapping) -> List[str]:
    """Combinations of model keys that make no sense, as `$.model.<key>: message` (towerPresetProblems in
    src/core/model/towers/index.ts, same messages)."""
    preset = tower_preset(model)
    problems = []
    if "queryHeads" in model and preset != "dpsr":
        problems.append(f'$.model.queryHeads: is used only with model.preset "dpsr" (preset is "{preset}"): remove it or set the preset to "dpsr"')
    if preset == "dpsr" and model.get("sharedTowers"):
        problems.append(f"$.model.sharedTowers: {DPSR_SHARED_MESSAGE}")
    if preset == "mgdspr" and model.get("sharedTowers"):
        problems.append(f"$.model.sharedTowers: {MGDSPR_SHARED_MESSAGE}")
    return problems


def query_scores(q: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
    """s(q_j, items_n) [B, N]: the dot product of q [B, D], or DPSR's attention score of q [B, K, D] (K heads)."""
    from .dpsr import dpsr_scores

    return dpsr_scores(q, items) if q.dim() == 3 else q @ items.T


def query_featurizer(model: dict, preset: Optional[str] = None) -> Callable[[str], List[int]]:
    """Feature ids of a query text (packed granules for "mgdspr"); `preset` the encoding tower's, default the config's."""
    opts = featurize_options(model, "query")
    if (preset or tower_preset(model)) == "mgdspr":
        return lambda t: mgdspr_query_features(t, opts)
    return lambda t: featurize(t, opts)


def query_input_dim(preset: str, embed: int) -> int:
    return MGDSPR_PARTS * embed if preset == "mgdspr" else embed


def query_bag_lists(preset: str, feats: Sequence[Sequence[int]]) -> List[Sequence[int]]:
    """The bags of queries' features, MGDSPR_GRANULES consecutive bags per query for "mgdspr"."""
    if preset != "mgdspr":
        return list(feats)
    return [g for f in feats for g in granules(f)]


__all__ = [
    "MGDSPR_GRANULES",
    "TOWER_PRESETS",
    "tower_preset",
    "query_heads_of",
    "tower_problems",
    "query_scores",
    "query_featurizer",
    "query_input_dim",
    "query_bag_lists",
]
