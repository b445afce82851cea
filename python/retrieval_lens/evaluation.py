"""Periodic exact evaluation during training (`evaluation.every` "auto" or N > 0; see HeldOutSchedule): recall@1/5/10/50/100, MRR@10 and
nDCG@10 of exact inner-product search (torch matmul top-k) on the held-out sample — prepared by the launcher
with the built-in trainer's code (seeded queries, the corpus sampled with every positive kept, BM25 on the same
sample: HeldOutEval.from_sample), or, when this trainer runs alone, `heldOutQueries` seeded test queries over the
whole corpus without BM25 (HeldOutEval.from_config) — with the definitions of src/core/eval/retrievalMetrics.ts:
  recall@k = |R_q ∩ top-k| / |R_q|,  RR@10 = 1 / rank of the first relevant item in the top 10,
  nDCG@10 = Σ_{i≤10} rel_i / log2(i + 1) / Σ_{i≤min(|R_q|,10)} 1 / log2(i + 1),
averaged over the queries with a relevant item. Alone, the corpus is data.corpus, else the distinct items of
the train and test data (with any relevant test item that is missing added). The full evaluation with Faiss,
BM25 and failing queries stays `retrieval-lens eval <run>`.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Set

import torch

from .data import DataError, Item, load_corpus, load_examples
from .features import featurize, featurize_options
from .model import TwoTower
from .run_writer import now_iso
from .schemas import run_events_schema
from .towers import query_featurizer, query_scores

RECALL_KS = (1, 5, 10, 50, 100)
#: BM25's parameters (BM25_PARAMS, src/core/lexical/bm25Ranker.ts; test_held_out.py pins them) and the triage
#: labels (TRIAGE_LABELS, src/core/eval/types.ts, from the run format's schema), as a metrics.json entry names them.
BM25_PARAMS = {"k1": 1.2, "b": 0.75}
TRIAGE_LABELS = tuple(run_events_schema()["definitions"]["evalEntry"]["properties"]["failures"]["properties"]["byLabel"]["properties"])


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


HELD_OUT_FORMAT = "rlens-heldout-1"


def describe_held_out(queries: int, corpus: int, total: int) -> str:
    """The sentence naming a sample, as describeHeldOut (src/core/quality/heldOutSample.ts)."""
    if corpus < total:
        return f"{queries:,} queries × {corpus:,} of {total:,} items (sampled, all positives kept)"
    return f"{queries:,} queries × {corpus:,} items (whole corpus)"


class HeldOutEval:
    """The held-out sample of live evaluation, encoded and scored exactly at each evaluation. Two sources:

    - from_sample(file): what the launcher prepared (src/trainer/launch/torchrunPrep.ts, the built-in trainer's
      code): the seeded queries, the corpus sampled with every positive kept, and BM25's metrics on it;
    - from_config(...): this trainer started alone (no launcher): every `heldOutQueries` seeded test query
      against the whole corpus, without a BM25 reference (the log says so)."""

    def __init__(self, query_ids, query_texts, qrels, corpus_ids, corpus_texts, model_cfg: dict, info: dict, bm25: Optional[Dict[str, float]], prep_s: float):
        self.query_ids: List[str] = query_ids
        self.query_texts: List[str] = query_texts
        self.qrels: Dict[str, Set[str]] = qrels
        self.corpus_ids: List[str] = corpus_ids
        self.info, self.bm25, self.prep_s = info, bm25, prep_s
        #: Where the launcher's sample came from ("read from <cache>", "cached in <cache>"), for the log.
        self.cache: Optional[str] = None
        #: The test and corpus files the sample was drawn from and the data notes, for eval/metrics.json.
        self.queries_source, self.corpus_source, self.notes = "held-out sample", "held-out sample", []
        #: Of the last run(): queries without a relevant item, encode and search time (ms).
        self.last_without_relevant, self.last_encode_ms, self.last_search_ms = 0, 0.0, 0.0
        self.item_feats = [featurize(t, featurize_options(model_cfg, "item")) for t in corpus_texts]
        query_features = query_featurizer(model_cfg)
        self.query_feats = [query_features(t) for t in query_texts]

    @classmethod
    def from_sample(cls, path: str, model_cfg: dict) -> "HeldOutEval":
        t0 = time.perf_counter()
        try:
            with open(path, encoding="utf-8") as f:
                doc = json.load(f)
            if doc.get("format") != HELD_OUT_FORMAT:
                raise ValueError(f"format {doc.get('format')!r}, not {HELD_OUT_FORMAT}")
            queries, corpus = doc["queries"], doc["corpus"]
            qrels = {q: set(ids) for q, ids in doc["qrels"].items()}
            info, bm25, prep_ms = doc["info"], doc["bm25"], float(doc["prepMs"])
            cache = doc.get("cache")
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise DataError(f"--held-out {path}: not a held-out sample of the launcher ({e})") from e
        out = cls([q for q, _ in queries], [t for _, t in queries], qrels, [i for i, _ in corpus], [t for _, t in corpus], model_cfg, info, bm25, 0.0)
        out.prep_s = prep_ms / 1000 + time.perf_counter() - t0
        out.cache = cache if isinstance(cache, str) else None
        out.queries_source = str(doc.get("queriesSource", path))
        out.corpus_source = str(doc.get("corpusSource", path))
        out.notes = [str(n) for n in doc.get("notes", [])]
        return out

    @classmethod
    def from_config(cls, cfg: dict, resolve, seed: int) -> "HeldOutEval":
        t0 = time.perf_counter()
        es = load_eval_set(cfg["data"], resolve)
        texts = dict(zip(es.query_ids, es.query_texts, strict=True))
        ids = es.query_ids
        n = cfg["evaluation"]["heldOutQueries"]
        if n < len(ids):
            keep = set(torch.randperm(len(ids), generator=torch.Generator().manual_seed(seed)).tolist()[:n])
            ids = [q for k, q in enumerate(ids) if k in keep]
        size = len(es.corpus)
        info = {"queries": len(ids), "corpus": size, "corpusTotal": size, "sampled": False, "description": describe_held_out(len(ids), size, size)}
        out = cls(ids, [texts[q] for q in ids], es.qrels, [it.id for it in es.corpus], [it.text for it in es.corpus], cfg["model"], info, None, 0.0)
        out.prep_s = time.perf_counter() - t0
        out.queries_source = resolve(cfg["data"]["test"])
        out.corpus_source = resolve(cfg["data"]["corpus"]) if cfg["data"].get("corpus") else f"items of {cfg['data']['train']} and {cfg['data']['test']}"
        return out

    def _encode(self, tower, feats, device) -> torch.Tensor:
        out = []
        for k in range(0, len(feats), 1024):
            out.append(tower.encode(feats[k : k + 1024]))
        return torch.cat(out, 0) if out else torch.zeros(0)

    @torch.no_grad()
    def estimate_s(self, model: TwoTower, device) -> float:
        """The expected time of one evaluation before any ran, as evalCost.ts: the item tower encodes a probe of up
        to 512 sample items once untimed (warm-up), then three times, the fastest pass counting; the time per item ×
        (items + queries) × 1.2 (the search and scoring)."""
        probe = self.item_feats[:512]
        if not probe:
            return 0.0
        was_training = model.training
        model.eval()
        self._encode(model.item, probe, device)  # untimed warm-up
        fastest = math.inf
        for _ in range(3):
            t0 = time.perf_counter()
            self._encode(model.item, probe, device)
            fastest = min(fastest, time.perf_counter() - t0)
        model.train(was_training)
        return fastest / len(probe) * (len(self.item_feats) + len(self.query_feats)) * 1.2

    @torch.no_grad()
    def run(self, model: TwoTower, device) -> Dict[str, float]:
        """The metrics of the eval event, keyed as the built-in trainer's (eventMetrics in src/core/eval/evalOutputs.ts):
        the exact search's, BM25's on the same sample as `bm25/…`, failures (0: none are listed live) and queries."""
        was_training = model.training
        model.eval()
        t0 = time.perf_counter()
        c = self._encode(model.item, self.item_feats, device)
        q = self._encode(model.query, self.query_feats, device)
        t1 = time.perf_counter()
        # Exact over the whole sample: the dot product, or DPSR's attention score of every item for multi-head queries.
        top = torch.topk(query_scores(q, c), min(100, c.shape[0]), dim=1).indices.cpu().tolist()
        self.last_encode_ms, self.last_search_ms = 1000 * (t1 - t0), 1000 * (time.perf_counter() - t1)
        model.train(was_training)
        sums = {f"recall@{k}": 0.0 for k in RECALL_KS}
        sums.update({"mrr@10": 0.0, "ndcg@10": 0.0})
        evaluated = 0
        for qid, ranked in zip(self.query_ids, top, strict=True):
            rel = self.qrels.get(qid, set())
            if not rel:
                continue
            evaluated += 1
            hits = [self.corpus_ids[i] in rel for i in ranked]
            for k in RECALL_KS:
                sums[f"recall@{k}"] += sum(hits[:k]) / len(rel)
            first = next((r for r, h in enumerate(hits[:10]) if h), None)
            sums["mrr@10"] += 0 if first is None else 1 / (first + 1)
            dcg = sum(1 / math.log2(i + 2) for i, h in enumerate(hits[:10]) if h)
            sums["ndcg@10"] += dcg / sum(1 / math.log2(i + 2) for i in range(min(len(rel), 10)))
        self.last_without_relevant = len(self.query_ids) - evaluated
        metrics = {k: (v / evaluated if evaluated else 0.0) for k, v in sums.items()}
        for k, v in (self.bm25 or {}).items():
            metrics[f"bm25/{k}"] = v
        metrics["failures"] = 0
        metrics["queries"] = len(self.query_ids)
        return metrics

    def metrics_entry(self, step: int, metrics: Dict[str, float]) -> Dict[str, Any]:
        """The eval/metrics.json entry of the last run() (EvalEntry, src/core/eval/types.ts, as the built-in trainer
        writes for a live evaluation: checkpoint "in-memory", a subset, exact search only, BM25 of the sample reused,
        no failure records); `metrics` is what run() returned."""
        exact = {k: v for k, v in metrics.items() if k.startswith(("recall@", "mrr@", "ndcg@"))}
        return {
            "step": step,
            "time": now_iso(),
            "checkpoint": "in-memory",
            "queries": {"source": self.queries_source, "count": len(self.query_ids), "withoutRelevant": self.last_without_relevant, "subset": True},
            "heldOut": dict(self.info),
            "corpus": {"source": self.corpus_source, "count": len(self.corpus_ids)},
            "index": {"spec": {"type": "Flat"}, "notes": list(self.notes), "buildMs": 0, "searchMs": self.last_search_ms},
            "encodeMs": self.last_encode_ms,
            "exact": exact,
            "ann": None,
            "annGap": None,
            "bm25": dict(self.bm25) if self.bm25 else None,
            "lexical": {"model": "BM25", "params": dict(BM25_PARAMS), "tokenizer": "words (as the towers)", "reused": True, "buildMs": 0, "searchMs": 0}
            if self.bm25
            else None,
            "failures": {"k": 10, "count": 0, "byLabel": {label: 0 for label in TRIAGE_LABELS}, "search": "exact", "file": "failures.jsonl"},
            "annFailures": None,
            "hybrid": None,
            "fusion": None,
            "nprobeCurve": None,
        }


#: The share of the budget the "auto" plan spends on held-out evaluation (evalSchedule.ts PLAN_SHARE): the rest covers
#: what it cannot time (the steps after an evaluation run slower, an evaluation slower than planned).
PLAN_SHARE = 0.6


class HeldOutSchedule:
    """When to evaluate, as src/core/quality/evalSchedule.ts: every N > 0 after every N-th step and the last;
    "auto" the evaluations that fit in `budget` of the whole run's training time, evenly spread, the last after
    the last step: after step s, k = floor((PLAN_SHARE * budget * S * total - spent) / expected) with S the mean
    step time so far and expected the slowest evaluation measured (before the first, the probe's estimate), and evaluate when s >= last + ceil((total - last) / k); when none fits (from the start, or once the budget is
    used up), the last step alone."""

    def __init__(self, every, budget: float, total: int, prep_s: float, estimate_s: float):
        self.every, self.budget, self.total = every, budget, total
        self.spent_s, self.expected_s, self.evaluations, self.last = prep_s, estimate_s, 0, 0
        #: The last step was evaluated although it did not fit in the budget (no evaluation had run).
        self.forced_last = False

    def due(self, step: int, trained_s: float) -> bool:
        if self.every == 0:
            return False
        if self.every != "auto":
            return step % self.every == 0 or step == self.total
        per_step = trained_s / max(1, step)
        fit = math.floor((PLAN_SHARE * self.budget * per_step * self.total - self.spent_s) / max(1e-6, self.expected_s))
        if fit >= 1:
            return step >= self.last + math.ceil((self.total - self.last) / fit)
        # Over the budget: none in between, but the last step is evaluated anyway (the run's final held-out value).
        self.forced_last = step == self.total and self.evaluations == 0
        return step == self.total

    def spent(self, step: int, seconds: float) -> None:
        self.spent_s += seconds
        # The slowest evaluation measured so far (as evalSchedule.ts): a fast one after a slow one does not pull
        # the later ones closer together.
        self.expected_s = seconds if self.evaluations == 0 else max(self.expected_s, seconds)
        self.evaluations += 1
        self.last = step

    def describe(self) -> str:
        """The rule in words, for the run log (as evalSchedule.ts)."""
        if self.every == "auto":
            return f'evaluation.every "auto": as many evaluations as fit in {self.budget:g} of the training time (planned for {PLAN_SHARE * 100:g}% of it), evenly spread, the last after the last step (one ≈ {self.expected_s:.2f} s, estimated)'
        return f"evaluation.every {self.every}: every {self.every} steps and after the last"
