"""A loss module in the shape of sentence-transformers' loss classes (e.g. MultipleNegativesRankingLoss):
`forward(sentence_features, labels)` embeds each column of the batch with `model(features)["sentence_embedding"]`
and returns the loss tensor, so the paper's losses plug into `SentenceTransformer.fit` / its trainer.

    loss = SentenceTransformersLoss(model, AdaptiveSoftmaxLoss())
    # columns: (anchor, positive) or (anchor, positive, negative_1, …, negative_K); labels are ignored
    model.fit(train_objectives=[(loader, loss)], …)
    lens.log(step, loss.last)   # the last batch's output, for retrieval_lens.Lens

sentence-transformers itself is not a dependency (and cannot be installed in this project's environment):
the contract is tested with a plain torch module that returns {"sentence_embedding": …}.
Without item ids the pairs' positives are taken as distinct items (no accidental-hit masking).
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, Optional

import torch
from torch import nn

from .losses import BatchLossOutput, RetrievalLoss


class SentenceTransformersLoss(nn.Module):
    """`model`: called as model(features) → {"sentence_embedding": [B, D], …}; `loss`: a retrieval_lens loss module."""

    def __init__(self, model: nn.Module, loss: RetrievalLoss):
        super().__init__()
        self.model = model
        self.loss = loss
        #: The output of the last forward (for `Lens.log`), or None before the first.
        self.last: Optional[BatchLossOutput] = None

    def forward(self, sentence_features: Iterable[Dict[str, Any]], labels: Optional[torch.Tensor] = None) -> torch.Tensor:
        emb = [self.model(features)["sentence_embedding"] for features in sentence_features]
        if len(emb) < 2:
            raise ValueError(f"sentence_features needs at least 2 columns (anchor, positive), got {len(emb)}")
        negatives = torch.stack(emb[2:], 1) if len(emb) > 2 else None
        last = self.loss(emb[0], emb[1], negatives)
        self.last = last
        return last.loss
