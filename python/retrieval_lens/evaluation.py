"""Periodic exact evaluation during training (`evaluation.every` "auto" or N > 0; see HeldOutSchedule): recall@1/5/10/50/100, MRR@10 and
nDCG@10 of exact inner-product search on `heldOutQueries` seeded test queries over the corpus, the
definitions of src/core/eval/retrievalMetrics.ts:
  recall@k = |R_q ∩ top-k| / |R_q|,  RR@10 = 1 / rank of the first relevant item in the top 10,
  nDCG@10 = Σ_{i≤10} rel_i / log2(i + 1) / Σ_{i≤min(|R_q|,10)} 1 / log2(i + 1),
averaged over the queries with a relevant item. The corpus is data.corpus, else the distinct items of the
train and test data (with any relevant test item that is missing added). The full evaluation with Faiss,
BM25 and failing queries stays `retrieval-lens eval <run>`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Set

import torch

from .data import Item, load_corpus, load_examples
from .features import featurize, featurize_options
from .model import TwoTower, bags

RECALL_KS = (1, 5, 10, 50, 100)


@dataclass
class EvalSet:
    """Test queries (ids and texts, first occurrence), their relevant item ids and the corpus."""

    query_ids: List[str]
    query_texts: List[str]
    qrels: Dict[str, Set[str]]
    corpus: List[Item]


def load_eval_set(data: Dict[str, Any], resolve: Callable[[str], str], test: Optional[str] = None) -> EvalSet:
    """The test queries of `test` (default data.test) and the corpus as the TypeScript evaluation builds it:
    data.corpus, else the distinct items of the train and test data, with every relevant test item added."""
    share, fields = data["maxBadLineShare"], data.get("fields")
    test_path = test if test is not None else resolve(data["test"])
    test_examples, _ = load_examples(test_path, data["format"] if test is None else "auto", share, fields, data.get("testSplit"), label="data.test")
    if data.get("corpus"):
        corpus = load_corpus(resolve(data["corpus"]), share, label="data.corpus")
    else:
        train_path = [resolve(p) for p in data["train"]] if isinstance(data["train"], list) else resolve(data["train"])
        train, _ = load_examples(train_path, data["format"], share, fields, data.get("trainSplit"), label="data.train")
        corpus = [e.positive for e in train + test_examples] + [n for e in train + test_examples for n in e.negatives]
    seen: Dict[str, Item] = {}
    for it in corpus:
        seen.setdefault(it.id, it)
    for e in test_examples:
        seen.setdefault(e.positive.id, e.positive)
    qrels: Dict[str, Set[str]] = {}
    texts: Dict[str, str] = {}
    for e in test_examples:
        qrels.setdefault(e.query_id, set()).add(e.positive.id)
        texts.setdefault(e.query_id, e.query)
    return EvalSet(list(texts), list(texts.values()), qrels, list(seen.values()))


class HeldOutEval:
    def __init__(self, cfg: dict, resolve, seed: int):
        es = load_eval_set(cfg["data"], resolve)
        self.corpus = es.corpus
        self.qrels = es.qrels
        texts = dict(zip(es.query_ids, es.query_texts, strict=True))
        ids = es.query_ids
        n = cfg["evaluation"]["heldOutQueries"]
        if n < len(ids):
            keep = set(torch.randperm(len(ids), generator=torch.Generator().manual_seed(seed)).tolist()[:n])
            ids = [q for k, q in enumerate(ids) if k in keep]
        self.query_ids = ids
        self.query_texts = [texts[q] for q in ids]
        m = cfg["model"]
        self.item_feats = [featurize(it.text, featurize_options(m, "item")) for it in self.corpus]
        self.query_feats = [featurize(t, featurize_options(m, "query")) for t in self.query_texts]

    @torch.no_grad()
    def run(self, model: TwoTower, device) -> Dict[str, float]:
        was_training = model.training
        model.eval()

        def encode(tower, feats):
            out = []
            for k in range(0, len(feats), 1024):
                ids, offs = bags(feats[k : k + 1024])
                out.append(tower(ids.to(device), offs.to(device)))
            return torch.cat(out, 0)

        c = encode(model.item, self.item_feats)
        q = encode(model.query, self.query_feats)
        top = torch.topk(q @ c.T, min(100, c.shape[0]), dim=1).indices.cpu().tolist()
        model.train(was_training)
        sums = {f"recall@{k}": 0.0 for k in RECALL_KS}
        sums.update({"mrr@10": 0.0, "ndcg@10": 0.0})
        evaluated = 0
        for qid, ranked in zip(self.query_ids, top, strict=True):
            rel = self.qrels.get(qid, set())
            if not rel:
                continue
            evaluated += 1
            hits = [self.corpus[i].id in rel for i in ranked]
            for k in RECALL_KS:
                sums[f"recall@{k}"] += sum(hits[:k]) / len(rel)
            first = next((r for r, h in enumerate(hits[:10]) if h), None)
            sums["mrr@10"] += 0 if first is None else 1 / (first + 1)
            dcg = sum(1 / math.log2(i + 2) for i, h in enumerate(hits[:10]) if h)
            sums["ndcg@10"] += dcg / sum(1 / math.log2(i + 2) for i in range(min(len(rel), 10)))
        metrics = {k: (v / evaluated if evaluated else 0.0) for k, v in sums.items()}
        metrics["queries"] = len(self.query_ids)
        metrics["corpusSize"] = len(self.corpus)
        return metrics


class HeldOutSchedule:
    """When to evaluate, as src/core/quality/evalSchedule.ts: every N > 0 after every N-th step and the last;
    "auto" the evaluations that fit in `budget` of the whole run's training time, evenly spread, the last after
    the last step: after step s, k = floor((budget * S * total - spent) / expected) with S the mean step time so
    far, and evaluate when s >= last + ceil((total - last) / k); when none fits, the last step alone."""

    def __init__(self, every, budget: float, total: int, prep_s: float, estimate_s: float):
        self.every, self.budget, self.total = every, budget, total
        self.spent_s, self.expected_s, self.evaluations, self.last = prep_s, estimate_s, 0, 0

    def due(self, step: int, trained_s: float) -> bool:
        if self.every == 0:
            return False
        if self.every != "auto":
            return step % self.every == 0 or step == self.total
        per_step = trained_s / max(1, step)
        fit = math.floor((self.budget * per_step * self.total - self.spent_s) / max(1e-6, self.expected_s))
        if fit >= 1:
            return step >= self.last + math.ceil((self.total - self.last) / fit)
        return step == self.total and self.evaluations == 0

    def spent(self, step: int, seconds: float) -> None:
        self.spent_s += seconds
        self.expected_s = seconds
        self.evaluations += 1
        self.last = step
