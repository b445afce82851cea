"""The query towers of `model.preset` (src/core/model/towers/index.ts; docs/towers.md): "dssm" (one bag of words +
trigrams) and "mgdspr" (towers/mgdspr.py). "dpsr" is refused (not in this build). The item tower is always DSSM."""

from __future__ import annotations

from typing import Callable, List, Optional, Sequence

from ..features import featurize, featurize_options
from .mgdspr import MGDSPR_GRANULES, MGDSPR_PARTS, granules, mgdspr_query_features

DPSR_MESSAGE = '"dpsr" (the multi-head query tower) is not in this build: use "dssm" or "mgdspr"'
SHARED_MESSAGE = 'the "mgdspr" query tower has its own input layer (4 × embeddingDim), so towers cannot be shared: set model.sharedTowers to false'


def tower_preset(model: dict) -> str:
    """The preset a model config (or a checkpoint's, written before presets existed: "dssm") trains."""
    p = model.get("preset") or "dssm"
    if p == "dpsr":
        raise ValueError(DPSR_MESSAGE)
    return p


def model_preset_problem(model: dict) -> Optional[str]:
    """A model config's preset problem as `$.model.<key>: message` (loadConfig.ts' checkModelPreset), or None."""
    if model.get("preset") == "dpsr":
        return f"$.model.preset: {DPSR_MESSAGE}"
    if model.get("preset") == "mgdspr" and model.get("sharedTowers"):
        return f"$.model.sharedTowers: {SHARED_MESSAGE}"
    return None


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


__all__ = ["MGDSPR_GRANULES", "SHARED_MESSAGE", "tower_preset", "model_preset_problem", "query_featurizer", "query_input_dim", "query_bag_lists"]
