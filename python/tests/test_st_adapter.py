"""The sentence-transformers call contract of SentenceTransformersLoss, with a plain torch module standing in for
a SentenceTransformer (the library cannot be installed here): forward(sentence_features, labels) embeds every
column through model(features)["sentence_embedding"], extra columns are per-pair negatives, gradients reach the
model, and the last output feeds Lens.log."""

import json
import os
from typing import Dict

import pytest
import torch
from torch import nn

from retrieval_lens import Lens
from retrieval_lens.losses import AdaptiveSoftmaxLoss
from retrieval_lens.st_adapter import SentenceTransformersLoss


class TinySentenceModel(nn.Module):
    """features {"input_ids": [B, L], "attention_mask": [B, L]} → {"sentence_embedding": [B, D], "token_embeddings": …}."""

    def __init__(self, vocab: int = 50, dim: int = 8):
        super().__init__()
        self.emb = nn.Embedding(vocab, dim)
        self.calls = 0

    def forward(self, features: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        self.calls += 1
        tokens = self.emb(features["input_ids"])
        mask = features["attention_mask"].float()[..., None]
        return {**features, "token_embeddings": tokens, "sentence_embedding": (tokens * mask).sum(1) / mask.sum(1)}


def column(seed: int, B: int = 6, L: int = 5) -> Dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return {"input_ids": torch.randint(50, (B, L), generator=g), "attention_mask": torch.ones(B, L, dtype=torch.long)}


def test_forward_embeds_each_column_and_gives_the_loss_modules_loss_with_gradients():
    torch.manual_seed(0)
    model = TinySentenceModel()
    loss_fn = AdaptiveSoftmaxLoss(tau0=0.1)
    adapter = SentenceTransformersLoss(model, loss_fn)
    cols = [column(1), column(2), column(3)]
    loss = adapter(cols, torch.zeros(6))
    assert model.calls == 3 and loss.dim() == 0
    emb = [model(c)["sentence_embedding"] for c in cols]
    direct = loss_fn(emb[0], emb[1], emb[2][:, None, :])
    assert abs(float(loss) - float(direct.loss)) <= 1e-6
    assert adapter.last is not None and adapter.last.candidates.shape[0] == 6 + 6  # positives + one negative each
    loss.backward()
    grad = model.emb.weight.grad
    assert grad is not None and float(grad.abs().max()) > 0


def test_one_column_is_refused():
    with pytest.raises(ValueError, match="at least 2 columns"):
        SentenceTransformersLoss(TinySentenceModel(), AdaptiveSoftmaxLoss())([column(1)], None)


def test_the_last_output_is_logged_by_lens(tmp_path):
    model = TinySentenceModel()
    adapter = SentenceTransformersLoss(model, AdaptiveSoftmaxLoss())
    with Lens(str(tmp_path), "st", loss=adapter.loss, log_every=1) as lens:
        adapter([column(1), column(2)], None).backward()
        assert adapter.last is not None and lens.log(1, adapter.last)
    with open(os.path.join(lens.dir, "events.jsonl"), encoding="utf-8") as f:
        (step,) = [e for e in map(json.loads, f) if e["type"] == "step"]
    assert step["diagnostics"]["dist"]["tau"]["count"] == 6 * 5
