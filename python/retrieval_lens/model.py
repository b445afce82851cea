"""DSSM two-tower model and its checkpoints in the documented weight format (docs/run-format.md §7).

tower(text) = normalize(relu(bag · W1 + b1) · W2 + b2),  normalize(o) = o / sqrt(‖o‖² + 1e-12),
bag = the mean of the embedding rows of the text's feature ids (features.py; zeros without features).
With `model.preset` "mgdspr" the query tower's input is the multi-granular x [4E] of towers/mgdspr.py instead of the
bag (its `query/dense1/kernel` is [4E, H]); a checkpoint without `preset` is "dssm".
Weights per tower (`query` and `item`, or one `shared`), in this order: `<tower>/embedding` [V, E],
`<tower>/dense1/kernel` [E, H], `<tower>/dense1/bias` [H], `<tower>/dense2/kernel` [H, D],
`<tower>/dense2/bias` [D] ([H, K·D] and [K·D] for a DPSR query tower of K heads, model.preset "dpsr":
towers/dpsr.py); `weights.bin` holds them as little-endian float32, row-major, concatenated.
"""

from __future__ import annotations

import json
import math
import os
from typing import Dict, List, Sequence, Tuple, cast

import torch
from torch import nn

from .towers import query_bag_lists, query_heads_of, query_input_dim, tower_preset
from .towers.mgdspr import mgdspr_mix

CHECKPOINT_FORMAT = "retrieval-lens/two-tower@1"
WEIGHT_ORDER = ("embedding", "dense1/kernel", "dense1/bias", "dense2/kernel", "dense2/bias")


class Tower(nn.Module):
    """One DSSM tower: embedding bag (mean) → dense H (relu) → dense D → L2 normalisation. With heads K > 1 (DPSR's
    query tower) the last layer is K·D wide and gives K unit vectors per text, [n, K, D]."""

    def __init__(self, vocab: int, embed: int, hidden: int, out: int, sparse: bool = False, preset: str = "dssm", heads: int = 1):
        super().__init__()
        self.preset = preset
        in_dim = query_input_dim(preset, embed)
        # sparse: the table's gradient holds only the rows the batch touched (for a lazy Adam, SparseAdam).
        self.embedding = nn.EmbeddingBag(vocab, embed, mode="mean", sparse=sparse)
        self.w1 = nn.Parameter(torch.empty(in_dim, hidden))
        self.b1 = nn.Parameter(torch.zeros(hidden))
        self.heads = heads
        self.w2 = nn.Parameter(torch.empty(hidden, out * heads))
        self.b2 = nn.Parameter(torch.zeros(out * heads))
        # As src/core/model/params.ts: rows U(−0.05, 0.05) (Keras' default), kernels Glorot-uniform.
        nn.init.uniform_(self.embedding.weight, -0.05, 0.05)
        nn.init.uniform_(self.w1, -math.sqrt(6 / (in_dim + hidden)), math.sqrt(6 / (in_dim + hidden)))
        nn.init.uniform_(self.w2, -math.sqrt(6 / (hidden + out)), math.sqrt(6 / (hidden + out)))

    def forward(self, ids: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
        device = self.w1.device
        bag = self.embedding(ids.to(device), offsets.to(device))
        if self.preset == "mgdspr":
            bag = mgdspr_mix(bag)
        o = torch.relu(bag @ self.w1 + self.b1) @ self.w2 + self.b2
        if self.heads > 1:
            o = o.view(o.shape[0], self.heads, -1)
        return o / torch.sqrt((o * o).sum(-1, keepdim=True) + 1e-12)

    def encode(self, feature_lists: Sequence[Sequence[int]]) -> torch.Tensor:
        """Embeddings of featurised texts (a query tower's features as its preset packs them)."""
        return self(*bags(query_bag_lists(self.preset, feature_lists)))

    def named_weights(self) -> List[Tuple[str, torch.Tensor]]:
        return list(zip(WEIGHT_ORDER, (self.embedding.weight, self.w1, self.b1, self.w2, self.b2), strict=True))


def bags(feature_lists: Sequence[Sequence[int]]) -> Tuple[torch.Tensor, torch.Tensor]:
    """EmbeddingBag inputs (flat ids, offsets) of a list of feature-id lists."""
    offsets, flat, o = [], [], 0
    for f in feature_lists:
        offsets.append(o)
        flat.extend(f)
        o += len(f)
    return torch.tensor(flat, dtype=torch.long), torch.tensor(offsets, dtype=torch.long)


class TwoTower(nn.Module):
    """The query and item towers (one module when `model.sharedTowers`)."""

    def __init__(self, model: dict, sparse: bool = False):
        super().__init__()
        keys = ("vocabBuckets", "embeddingDim", "hiddenDim", "outputDim", "maxQueryTokens", "maxItemTokens", "charTrigrams", "sharedTowers", "preset", "queryHeads")
        self.model_config = {k: model[k] for k in keys if k in model}
        dims = (model["vocabBuckets"], model["embeddingDim"], model["hiddenDim"], model["outputDim"])
        self.shared = bool(model["sharedTowers"])
        self.preset = tower_preset(model)
        if self.shared and self.preset != "dssm":
            raise ValueError(f"model.sharedTowers with model.preset {self.preset!r}: the query tower differs from the item tower")
        self.query = Tower(*dims, sparse=sparse, preset=self.preset, heads=query_heads_of(model))
        self.item = self.query if self.shared else Tower(*dims, sparse=sparse)

    def forward(self, query_feats: Sequence[Sequence[int]], item_feats: Sequence[Sequence[int]]) -> Tuple[torch.Tensor, torch.Tensor]:
        return self.query.encode(query_feats), self.item.encode(item_feats)

    def table_parameters(self) -> List[nn.Parameter]:
        # nn.Embedding.weight is a Parameter (typed Tensor in torch's stubs).
        return [cast(nn.Parameter, t.embedding.weight) for _, t in self.named_towers()]

    def dense_parameters(self) -> List[nn.Parameter]:
        return [p for _, t in self.named_towers() for p in (t.w1, t.b1, t.w2, t.b2)]

    def named_towers(self) -> List[Tuple[str, Tower]]:
        return [("shared", self.query)] if self.shared else [("query", self.query), ("item", self.item)]


def save_checkpoint(dir_: str, model: TwoTower, step: int, extra: Dict | None = None) -> None:
    """Writes model.json and weights.bin into the existing folder `dir_` (callers swap it in atomically)."""
    specs, tensors = [], []
    for prefix, tower in model.named_towers():
        for name, t in tower.named_weights():
            specs.append({"name": f"{prefix}/{name}", "shape": list(t.shape), "dtype": "float32"})
            tensors.append(t)
    with open(os.path.join(dir_, "weights.bin"), "wb") as f:
        for t in tensors:
            # float32, little-endian (every platform torch runs on), row-major.
            f.write(t.detach().to("cpu", torch.float32).contiguous().numpy().astype("<f4", copy=False).tobytes())
        f.flush()
        os.fsync(f.fileno())
    info = {"step": step, "model": model.model_config}
    if extra:
        info["extra"] = extra
    doc = {
        "format": CHECKPOINT_FORMAT,
        "generatedBy": "retrieval-lens (PyTorch)",
        "checkpoint": info,
        "weightsManifest": [{"paths": ["weights.bin"], "weights": specs}],
    }
    with open(os.path.join(dir_, "model.json"), "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1)
        f.flush()
        os.fsync(f.fileno())


def load_checkpoint(dir_: str) -> Tuple[TwoTower, dict]:
    """Reads a checkpoint (written by either trainer) into a TwoTower; returns it and the checkpoint info."""
    import numpy as np

    with open(os.path.join(dir_, "model.json"), encoding="utf-8") as f:
        doc = json.load(f)
    if doc.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{dir_}/model.json: unknown format {doc.get('format')!r} (expected {CHECKPOINT_FORMAT})")
    group = doc["weightsManifest"][0]
    raw = np.fromfile(os.path.join(dir_, group["paths"][0]), dtype="<f4")
    model = TwoTower(doc["checkpoint"]["model"])
    values, off = {}, 0
    for w in group["weights"]:
        n = int(np.prod(w["shape"]))
        values[w["name"]] = torch.from_numpy(raw[off : off + n].astype(np.float32).reshape(w["shape"]))
        off += n
    if off != raw.size:
        raise ValueError(f"{dir_}/weights.bin: {raw.size} floats, the manifest needs {off}")
    with torch.no_grad():
        for prefix, tower in model.named_towers():
            for name, t in tower.named_weights():
                t.copy_(values[f"{prefix}/{name}"])
    return model, doc["checkpoint"]
