"""What the PyTorch trainer does with what its launcher prepared (src/trainer/launch/torchrunPrep.ts): the held-out
sample (exact scores of exactly its queries and items, BM25's metrics passed on, the eval event's keys of the
built-in trainer) and the mined hard negatives (shared by the batch, masked like batcher.ts). The launcher itself,
with a real 2-rank torchrun, is tested in test/integration/torchrunLauncher.test.ts."""

import json
import math
import os
import re

import jsonschema

import pytest
import torch

import retrieval_lens.train as train_module
from conftest import REPO
from retrieval_lens.data import DataError
from retrieval_lens.evaluation import BM25_PARAMS, HeldOutEval, HeldOutSchedule
from retrieval_lens.features import featurize, featurize_options
from retrieval_lens.losses import negative_mask
from retrieval_lens.model import TwoTower, bags
from retrieval_lens.run_writer import append_metrics_entry
from retrieval_lens.train import batch_negatives, load_mined

SHOP = os.path.join(REPO, "examples", "shop", "shop.rlens.json")
RUN_EVENTS = json.load(open(os.path.join(REPO, "schemas", "run-events.schema.json"), encoding="utf-8"))
MODEL = {"vocabBuckets": 512, "embeddingDim": 8, "hiddenDim": 8, "outputDim": 8, "maxQueryTokens": 30, "maxItemTokens": 100, "charTrigrams": True, "sharedTowers": False}
BM25 = {"recall@1": 0.5, "recall@5": 0.75, "recall@10": 1.0, "recall@50": 1.0, "recall@100": 1.0, "mrr@10": 0.6, "ndcg@10": 0.7}
#: The keys of a live eval event of the built-in trainer (eventMetrics of a subset evaluation with the BM25 reference).
EVENT_KEYS = {f"{p}{m}" for p in ("", "bm25/") for m in BM25} | {"failures", "queries"}


def sample_file(tmp_path, corpus, queries, qrels):
    doc = {
        "format": "rlens-heldout-1",
        "info": {"queries": len(queries), "corpus": len(corpus), "corpusTotal": 2 * len(corpus), "sampled": True, "description": "x"},
        "bm25": BM25,
        "queries": queries,
        "qrels": qrels,
        "corpus": corpus,
        "prepMs": 1500.0,
    }
    path = tmp_path / "heldout.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return str(path)


def test_the_sample_is_scored_exactly_with_the_built_in_trainers_event_keys(tmp_path):
    words = ["red shoe", "blue hat", "green coat", "warm scarf", "black boot", "wool sock", "rain jacket"]
    corpus = [[f"i{k}", w] for k, w in enumerate(words)]
    queries = [["q0", "red shoes"], ["q1", "a hat"], ["q2", "socks of wool"], ["q3", "no answer"]]
    qrels = {"q0": ["i0"], "q1": ["i1", "i6"], "q2": ["i5"], "q3": []}
    ev = HeldOutEval.from_sample(sample_file(tmp_path, corpus, queries, qrels), MODEL)
    assert ev.prep_s >= 1.5 and ev.bm25 == BM25 and ev.info["corpusTotal"] == 14
    torch.manual_seed(3)
    model = TwoTower(MODEL)
    metrics = ev.run(model, torch.device("cpu"))
    assert set(metrics) == EVENT_KEYS
    assert metrics["queries"] == 4 and metrics["failures"] == 0 and metrics["bm25/recall@10"] == 1.0
    # The same numbers from the model's own scores of these very texts (q3 has no relevant item: not averaged).
    with torch.no_grad():
        enc = lambda tower, texts, side: tower(*bags([featurize(t, featurize_options(MODEL, side)) for t in texts]))  # noqa: E731
        scores = enc(model.query, [t for _, t in queries], "query") @ enc(model.item, words, "item").T
    want = {1: 0.0, 5: 0.0}
    rr = 0.0
    for qi, (qid, _) in enumerate(queries[:3]):
        order = [corpus[i][0] for i in torch.argsort(scores[qi], descending=True).tolist()]
        rel = set(qrels[qid])
        for k in want:
            want[k] += len(rel & set(order[:k])) / len(rel) / 3
        first = next(r for r, i in enumerate(order) if i in rel)
        rr += (1 / (first + 1) if first < 10 else 0) / 3
    assert math.isclose(metrics["recall@1"], want[1]) and math.isclose(metrics["recall@5"], want[5])
    assert math.isclose(metrics["mrr@10"], rr) and metrics["recall@10"] == 1.0  # 7 items: all in the top 10


def test_each_live_evaluation_is_an_entry_of_eval_metrics_json_in_the_run_format(tmp_path):
    """What the built-in trainer appends for a live evaluation (trainLoop.ts → appendMetricsEntry): checked against the
    run format's schema (definitions.evalEntry of schemas/run-events.schema.json, from src/core/eval/evalEntrySchema.ts)."""
    corpus = [[f"i{k}", w] for k, w in enumerate(["red shoe", "blue hat", "green coat"])]
    path = sample_file(tmp_path, corpus, [["q0", "red shoes"], ["q1", "nothing"]], {"q0": ["i0"], "q1": []})
    doc = json.loads(open(path, encoding="utf-8").read())
    doc.update(queriesSource="/data/test.jsonl", corpusSource="/data/corpus.jsonl", notes=["a note"])
    open(path, "w", encoding="utf-8").write(json.dumps(doc))
    ev = HeldOutEval.from_sample(path, MODEL)
    torch.manual_seed(3)
    model = TwoTower(MODEL)
    run = tmp_path / "run"
    run.mkdir()
    for step in (4, 8):
        metrics = ev.run(model, torch.device("cpu"))
        append_metrics_entry(str(run), ev.metrics_entry(step, metrics))
    got = json.loads((run / "eval" / "metrics.json").read_text(encoding="utf-8"))
    assert got["v"] == 1 and [e["step"] for e in got["evaluations"]] == [4, 8]
    schema = {**RUN_EVENTS, "oneOf": None, "$ref": "#/definitions/evalEntry"}
    check = jsonschema.Draft7Validator({k: v for k, v in schema.items() if v is not None})
    for e in got["evaluations"]:
        assert [f"{'/'.join(map(str, x.absolute_path))}: {x.message}" for x in check.iter_errors(e)] == []
    e = got["evaluations"][-1]
    assert e["queries"] == {"source": "/data/test.jsonl", "count": 2, "withoutRelevant": 1, "subset": True}
    assert e["corpus"] == {"source": "/data/corpus.jsonl", "count": 3} and e["index"]["notes"] == ["a note"]
    assert e["checkpoint"] == "in-memory" and e["heldOut"] == doc["info"] and e["bm25"] == BM25
    assert e["exact"] == {k: v for k, v in metrics.items() if k in BM25}  # the eval event's numbers
    assert e["lexical"]["reused"] is True and e["failures"]["count"] == 0
    # Something that is not a metrics file is kept aside, never overwritten.
    (run / "eval" / "metrics.json").write_text("{not json", encoding="utf-8")
    said = []
    append_metrics_entry(str(run), ev.metrics_entry(12, metrics), said.append)
    aside = [f for f in os.listdir(run / "eval") if f.startswith("metrics.json.unreadable-")]
    assert len(aside) == 1 and (run / "eval" / aside[0]).read_text(encoding="utf-8") == "{not json"
    assert "could not be read" in said[0] and aside[0] in said[0]
    assert [e["step"] for e in json.loads((run / "eval" / "metrics.json").read_text(encoding="utf-8"))["evaluations"]] == [12]


def test_bm25_parameters_are_those_of_the_typescript_index():
    ts = open(os.path.join(REPO, "src", "core", "lexical", "bm25Ranker.ts"), encoding="utf-8").read()
    m = re.search(r"export const BM25_PARAMS = \{ k1: ([\d.]+), b: ([\d.]+) \}", ts)
    assert m and BM25_PARAMS == {"k1": float(m.group(1)), "b": float(m.group(2))}


def test_a_file_that_is_not_the_launchers_sample_is_a_located_data_error(tmp_path):
    bad = tmp_path / "heldout.json"
    bad.write_text('{"format": "other"}', encoding="utf-8")
    with pytest.raises(DataError, match=rf"--held-out {bad}: not a held-out sample of the launcher \(format 'other'"):
        HeldOutEval.from_sample(str(bad), MODEL)


@pytest.mark.parametrize(
    "doc, where",
    [
        ([], "not a JSON object"),
        ({"format": "rlens-hardneg-job-1", "description": "d", "items": [["n1", "x"]], "negatives": {"qa": [0, -1]}}, r"negatives\.qa\[1\]: -1 is not a row of items \(0–0\)"),
        ({"format": "rlens-hardneg-job-1", "description": "d", "items": [["n1", "x"]], "negatives": {"qa": [1]}}, r"negatives\.qa\[0\]: 1 is not a row of items \(0–0\)"),
        ({"format": "rlens-hardneg-job-1", "description": "d", "items": [["n1", "x"]], "negatives": {"qa": [True]}}, r"negatives\.qa\[0\]: True is not a row of items"),
    ],
)
def test_a_mined_negatives_file_with_a_row_outside_its_items_is_a_located_data_error(tmp_path, doc, where):
    """Not a silent wrap-around (items[-1] is the last item in Python): the json path and the value."""
    f = tmp_path / "hardneg.json"
    f.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(DataError, match=rf"--hard-negatives {f}: not the launcher's mined negatives \({where}"):
        load_mined(str(f))


def test_mined_negatives_are_shared_by_the_batch_once_each_and_masked_like_batcher_ts(tmp_path):
    f = tmp_path / "hardneg.json"
    items = [["n1", "a mined one"], ["p1", "the positive of pair 1"], ["n2", "THE   positive of pair 0"], ["n3", "another"]]
    f.write_text(json.dumps({"format": "rlens-hardneg-job-1", "description": "d", "items": items, "negatives": {"qa": [0, 1, 2], "qb": [0, 3]}}), encoding="utf-8")
    by_query, line, notice = load_mined(str(f))
    assert line == "d" and notice is None and [n.id for n in by_query["qa"]] == ["n1", "p1", "n2"]
    feats = train_module.Featurizer(MODEL, 5, by_query)
    from retrieval_lens.data import Example, Item

    batch = [Example("a", Item("p0", "the positive of pair 0"), [Item("e0", "own explicit")], query_id="qa"), Example("b", Item("p1", "the positive of pair 1"), query_id="qb")]
    rows = [feats.get(ex) for ex in batch]
    ids, neg_feats, owners, sources = batch_negatives(rows, ["p0", "p1"])
    assert [(j, item.id) for j, item in sources] == [(0, "e0"), (0, "n1"), (0, "n2"), (1, "n3")], "each negative's item and the pair that brought it"
    # Pair 0's explicit negative (owner 0); then n1 once, p1 left out (a batch positive), n2 (pair 0's positive by text)
    # under p0's id, n3; all shared (-1).
    assert ids == ["e0", "n1", "p0", "n3"] and owners == [0, -1, -1, -1] and len(neg_feats) == 4
    mask = negative_mask(["p0", "p1"], 2, 0, 2, ids, owners, len(ids))
    assert mask.tolist() == [[False, True, True, True, False, True], [True, False, False, True, True, True]]


def test_data_hard_negatives_without_the_launchers_file_is_refused_before_any_run_folder(tmp_path, capsys):
    args = [SHOP, "--out", str(tmp_path / "runs"), "--steps", "1", "--set", 'data.hardNegatives={"source":"bm25","perQuery":2}']
    assert train_module.train(args) == 2
    assert "data.hardNegatives: the negatives are mined by the launcher" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()


def test_the_schedule_evaluates_the_last_step_even_when_the_budget_ran_out_mid_run():
    """As evalSchedule.ts (heldOutQuality.test.ts, the same case): 100 ms steps, 2 s of preparation, evaluations of 1 s
    then 9 s; 60% of 10% of 100 s holds 4 at first, none after the slow one, but the last step is evaluated anyway."""
    s = HeldOutSchedule("auto", 0.1, 1000, 2.0, 1.0)
    costs, due = [1.0, 9.0], []
    for step in range(1, 1001):
        if s.due(step, step * 0.1):
            due.append(step)
            s.spent(step, costs[len(due) - 1] if len(due) <= len(costs) else 1.0)
    assert due == [250, 500, 1000] and s.forced_last is False


def test_the_schedule_plans_with_the_slowest_evaluation_measured():
    """As heldOutQuality.test.ts: evaluations alternating 0.5 s and 0.75 s: six, 5.75 s of the 6 s planned (planning on
    the last one measured instead: seven, 6.25 s)."""
    s = HeldOutSchedule("auto", 0.1, 1000, 2.0, 1.0)
    due = []
    for step in range(1, 1001):
        if s.due(step, step * 0.1):
            due.append(step)
            s.spent(step, 0.5 if len(due) % 2 else 0.75)
    assert due == [250, 358, 572, 715, 858, 1000] and s.spent_s <= 6.0 + 1e-9
