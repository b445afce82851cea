"""`Lens.evaluate` and `retrieval-lens eval <run> --embeddings DIR` on the bundled shop data (real Faiss, BM25 and
triage in the TypeScript CLI): metrics and failing queries with jump-to-line locations; bad embeddings (a wrong
dtype, NaN rows, ids that do not match the rows or the test data, differing dimensions) are refused with the file
and the row, and nothing of the run is changed."""

import hashlib
import json
import os
import re
import shutil
import subprocess
import zlib
from typing import Dict, List

import numpy as np
import pytest
import torch

from conftest import REPO
from retrieval_lens import Lens
from retrieval_lens.losses import AdaptiveSoftmaxLoss

SHOP = os.path.join(REPO, "examples", "shop", "data")
DATA = {k: os.path.join(SHOP, f"{k}.jsonl") for k in ("train", "test", "corpus")}
CLI = os.path.join(REPO, "bin", "retrieval-lens.js")

def words(texts: List[str], dim: int = 64) -> torch.Tensor:
    """A bag of hashed words: an encoder that needs no training and finds lexical matches."""
    out = torch.zeros(len(texts), dim)
    for i, t in enumerate(texts):
        for w in t.lower().split():
            out[i, zlib.crc32(w.encode()) % dim] += 1
    return torch.nn.functional.normalize(out + 1e-6, dim=-1)

@pytest.fixture(scope="module")
def evaluated_run(tmp_path_factory):
    if not os.path.exists(os.path.join(REPO, "dist", "cli.js")):
        pytest.fail("dist/cli.js is missing: run `npm run build` first (npm test does)")
    root = tmp_path_factory.mktemp("runs")
    loss_fn = AdaptiveSoftmaxLoss()
    with Lens(str(root), "bag of words", total_steps=3, loss=loss_fn, data=DATA, log_every=1) as lens:
        for step in range(1, 4):
            q = torch.randn(8, 16)
            lens.log(step, loss_fn(q, q + 0.3 * torch.randn(8, 16)))
        entry = lens.evaluate(words, words)
    return lens.dir, entry

def test_evaluate_writes_metrics_failures_with_locations_and_an_eval_event(evaluated_run):
    run, entry = evaluated_run
    assert entry["step"] == 3 and entry["checkpoint"] == "embeddings" and entry["corpus"]["count"] == 6120
    exact, ann, bm25 = entry["exact"], entry["ann"], entry["bm25"]
    assert 0.2 < exact["recall@10"] < 1 and ann is not None and bm25 is not None  # far above chance (10 / 6120)
    assert entry["failures"]["count"] > 0 and entry["failures"]["file"] == "failures.jsonl"
    with open(os.path.join(run, "eval", "failures.jsonl"), encoding="utf-8") as f:
        lines = [json.loads(x) for x in f]
    assert lines[0]["kind"] == "header" and lines[0]["step"] == 3
    records = [x for x in lines if "queryId" in x]
    assert len(records) == entry["failures"]["count"] and all(r["label"] for r in records)
    items = {x["item"]: x for x in lines if "item" in x}
    corpus = open(DATA["corpus"], encoding="utf-8").read().splitlines()
    some = next(iter(items.values()))
    assert json.loads(corpus[some["line"] - 1])["id"] == some["item"]  # jump-to-line lands on the item
    with open(os.path.join(run, "events.jsonl"), encoding="utf-8") as f:
        events = [json.loads(x) for x in f]
    (ev,) = [e for e in events if e["type"] == "eval"]
    assert ev["step"] == 3 and ev["metrics"]["recall@10"] == exact["recall@10"]

def fingerprint(run: str) -> Dict[str, str]:
    out = {}
    for base, _, files in os.walk(run):
        for f in files:
            p = os.path.join(base, f)
            out[os.path.relpath(p, run)] = hashlib.sha256(open(p, "rb").read()).hexdigest()
    return out

def bad_copy(run: str, tmp_path, change) -> str:
    d = str(tmp_path / "emb")
    shutil.copytree(os.path.join(run, "embeddings"), d)
    change(d)
    return d

def set_float64(d: str) -> None:
    np.save(os.path.join(d, "items.npy"), np.load(os.path.join(d, "items.npy")).astype(np.float64))

def set_nan(d: str) -> None:
    a = np.load(os.path.join(d, "queries.npy"))
    a[17, 3] = np.nan
    np.save(os.path.join(d, "queries.npy"), a)

def drop_item(d: str) -> None:
    ids = json.load(open(os.path.join(d, "items.ids.json")))
    keep = [k for k, i in enumerate(ids) if i != "p04353"]
    np.save(os.path.join(d, "items.npy"), np.load(os.path.join(d, "items.npy"))[keep])
    json.dump([ids[k] for k in keep], open(os.path.join(d, "items.ids.json"), "w"))

def short_ids(d: str) -> None:
    ids = json.load(open(os.path.join(d, "queries.ids.json")))
    json.dump(ids[:-1], open(os.path.join(d, "queries.ids.json"), "w"))

def other_dim(d: str) -> None:
    np.save(os.path.join(d, "queries.npy"), np.load(os.path.join(d, "queries.npy"))[:, :32].copy())

def one_dim(d: str) -> None:
    np.save(os.path.join(d, "items.npy"), np.zeros(6120, dtype=np.float32))

@pytest.mark.parametrize(
    "change,message",
    [
        (set_float64, r"items\.npy: dtype is <f8 \(float64\); expected little-endian float32"),
        (set_nan, r'queries\.npy: row 17 \(id "[^"]+"\) has a non-finite value \(NaN\) in column 3'),
        (drop_item, r'items\.ids\.json: no embedding for corpus item "p04353" \(.*corpus\.jsonl:4353\); 1 of the 6120 corpus items have none'),
        (short_ids, r"queries\.ids\.json has \d+ ids but .*queries\.npy has \d+ rows"),
        (other_dim, r"queries\.npy has dimension 32 but .*items\.npy has 64"),
        (one_dim, r"items\.npy: shape is \(6120,\); expected 2-D"),
    ],
    ids=["float64", "nan row", "missing corpus id", "ids vs rows", "dimensions", "1-D"],
)
def test_bad_embeddings_are_refused_naming_file_and_row_and_the_run_is_unchanged(evaluated_run, tmp_path, change, message):
    run, _ = evaluated_run
    d = bad_copy(run, tmp_path, change)
    before = fingerprint(run)
    p = subprocess.run(["node", CLI, "eval", run, "--embeddings", d], capture_output=True, text=True, timeout=300, cwd=REPO)
    assert p.returncode != 0

    assert re.search(message, p.stderr), p.stderr[-2000:]
    assert fingerprint(run) == before


def test_eval_of_a_run_without_checkpoints_uses_its_embeddings_folder(evaluated_run):
    run, _ = evaluated_run
    p = subprocess.run(["node", CLI, "eval", run], capture_output=True, text=True, timeout=300, cwd=REPO)
    assert p.returncode == 0, p.stderr[-2000:]
    with open(os.path.join(run, "eval", "metrics.json"), encoding="utf-8") as f:
        evaluations = json.load(f)["evaluations"]
    assert len(evaluations) == 2 and evaluations[1]["checkpoint"] == "embeddings" and evaluations[1]["exact"] == evaluations[0]["exact"]
