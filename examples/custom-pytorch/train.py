"""Your own model in Retrieval Lens: a small transformer encoder in plain PyTorch, trained on the bundled shop data
with the paper's adaptive-temperature softmax loss in a hand-written loop, logged with `retrieval_lens.Lens`
(live δ/τ distributions, collapse verdict) and evaluated with Faiss + BM25 through `eval --embeddings`.

    PYTHONPATH=python /usr/bin/python3 examples/custom-pytorch/train.py [--steps 200] [--runs-dir examples/custom-pytorch/runs]

Nothing is downloaded: the tokenizer splits lower-cased text on non-alphanumerics and keeps the training data's
most frequent words.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import re
import sys
from collections import Counter
from typing import Dict, List, Sequence

import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
try:
    import retrieval_lens  # noqa: F401
except ImportError:  # run from a clone without PYTHONPATH=python
    sys.path.insert(0, os.path.join(REPO, "python"))

from retrieval_lens import Lens  # noqa: E402
from retrieval_lens.data import load_examples  # noqa: E402
from retrieval_lens.losses import AdaptiveSoftmaxLoss  # noqa: E402

DATA = os.path.join(REPO, "examples", "shop", "data")
PAD, UNK = 0, 1
WORD = re.compile(r"[^\W_]+")


class WordTokenizer:
    """Lower-cased words; the `size` − 2 most frequent words of the training texts get ids, others are UNK."""

    def __init__(self, texts: Sequence[str], size: int = 20000, max_len: int = 32):
        counts = Counter(w for t in texts for w in WORD.findall(t.lower()))
        self.vocab: Dict[str, int] = {w: i + 2 for i, (w, _) in enumerate(counts.most_common(size - 2))}
        self.size, self.max_len = size, max_len

    def __call__(self, texts: Sequence[str]) -> torch.Tensor:
        """[len(texts), L] token ids, right-padded with PAD (L = the longest text, at most max_len)."""
        rows = [[self.vocab.get(w, UNK) for w in WORD.findall(t.lower())][: self.max_len] or [UNK] for t in texts]
        width = max(len(r) for r in rows)
        return torch.tensor([r + [PAD] * (width - len(r)) for r in rows])


class Encoder(nn.Module):
    """Token + position embeddings → nn.TransformerEncoder → mean over the non-pad tokens → linear head."""

    def __init__(self, vocab: int, dim: int = 64, layers: int = 2, heads: int = 4, max_len: int = 32):
        super().__init__()
        self.tokens = nn.Embedding(vocab, dim, padding_idx=PAD)
        self.positions = nn.Embedding(max_len, dim)
        layer = nn.TransformerEncoderLayer(dim, heads, dim_feedforward=2 * dim, dropout=0.1, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers)
        self.head = nn.Linear(dim, dim)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        pad = ids == PAD
        x = self.tokens(ids) + self.positions(torch.arange(ids.shape[1]))[None]
        h = self.encoder(x, src_key_padding_mask=pad)
        keep = (~pad).float()[..., None]
        return self.head((h * keep).sum(1) / keep.sum(1).clamp(min=1))


def main(argv: List[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--runs-dir", default=os.path.join(HERE, "runs"))
    p.add_argument("--seed", type=int, default=7)
    a = p.parse_args(argv)
    torch.manual_seed(a.seed)
    random.seed(a.seed)
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))

    train, _ = load_examples(os.path.join(DATA, "train.jsonl"))
    tokenize = WordTokenizer([e.query for e in train] + [e.positive.text for e in train])
    model = Encoder(tokenize.size)
    loss_fn = AdaptiveSoftmaxLoss(alpha=0.5, tau0=1 / 30)  # the paper's setting, with the symmetric term
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    data = {k: os.path.join(DATA, f"{k}.jsonl") for k in ("train", "test", "corpus")}
    config = {"model": "transformer-2x64", "tokenizer": "words", "lr": a.lr, "batch": a.batch, "seed": a.seed}

    with Lens(a.runs_dir, "custom transformer (shop)", config=config, total_steps=a.steps, loss=loss_fn, data=data, batch_size=a.batch) as lens:
        print(f"run: {lens.dir}", flush=True)
        order: List[int] = []
        for step in range(1, a.steps + 1):
            if len(order) < a.batch:
                order += random.sample(range(len(train)), len(train))
            batch, order = [train[k] for k in order[: a.batch]], order[a.batch :]
            q_ids, v_ids = tokenize([e.query for e in batch]), tokenize([e.positive.text for e in batch])
            out = loss_fn(model(q_ids), model(v_ids), ids=[e.positive.id for e in batch])
            opt.zero_grad()
            out.loss.backward()
            grad_norm = float(torch.nn.utils.clip_grad_norm_(model.parameters(), math.inf))
            opt.step()
            lens.log(step, out, lr=a.lr, grad_norm=grad_norm, epoch=(step * a.batch) // len(train))
            lens.log_scalars(step, {"gradNorm/encoder": grad_norm, "queryTokens/unknownShare": float((q_ids == UNK).sum() / (q_ids != PAD).sum())})
        model.eval()
        # the loss scores cosines: evaluate the unit vectors (Faiss searches by inner product)
        def encode(texts: List[str]) -> torch.Tensor:
            return nn.functional.normalize(model(tokenize(texts)), dim=-1)

        entry = lens.evaluate(encode, encode)
    if entry is not None:
        exact, bm25 = entry["exact"], entry["bm25"]
        print(f"recall@10: {exact['recall@10']:.3f} (BM25 {bm25['recall@10']:.3f}); failing queries: {entry['failures']['count']} in {lens.dir}/eval/failures.jsonl")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
