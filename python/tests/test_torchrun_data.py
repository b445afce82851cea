"""The PyTorch trainer under torchrun (2 gloo ranks, real processes) on sharded data: a glob of plain and gzip
shards in another record shape (sentence-transformers) trains to completion, the run log naming the detected
shape as the TypeScript trainer does; a BEIR folder trains too; too many bad lines on the ranks end the run
`failed` with the located bad-line message."""

import gzip
import json
import os
import re

from conftest import REPO, finish, launch

SHOP = os.path.join(REPO, "examples", "shop", "data", "train.jsonl")
SMALL = ["--set", "training.batchSize=32", "--set", "training.logEvery=1", "--set", "model.vocabBuckets=4096", "--set", "data.shuffleBuffer=2000"]


def shards(folder, n_lines=3000, bad_shard=False):
    """The first n_lines of the shop example as sentence-transformers records in part-1.jsonl, part-2.jsonl and
    part-3.jsonl.gz (and, with bad_shard, part-4.jsonl: as many lines that are not JSON)."""
    os.makedirs(folder)
    with open(SHOP, encoding="utf-8") as f:
        rows = [json.loads(next(f)) for _ in range(n_lines)]
    negative = [{"negative": r["negatives"][0]["text"]} if r.get("negatives") else {} for r in rows]
    lines = [json.dumps({"anchor": r["query"], "positive": r["positive"], **neg}) + "\n" for r, neg in zip(rows, negative, strict=True)]
    third = n_lines // 3
    open(os.path.join(folder, "part-1.jsonl"), "w", encoding="utf-8").writelines(lines[:third])
    open(os.path.join(folder, "part-2.jsonl"), "w", encoding="utf-8").writelines(lines[third : 2 * third])
    with gzip.open(os.path.join(folder, "part-3.jsonl.gz"), "wt", encoding="utf-8") as g:
        g.writelines(lines[2 * third :])
    if bad_shard:
        open(os.path.join(folder, "part-4.jsonl"), "w", encoding="utf-8").writelines("{not json\n" for _ in range(n_lines // 2))


def config(tmp_path, train) -> str:
    p = os.path.join(str(tmp_path), "c.rlens.json")
    with open(p, "w", encoding="utf-8") as f:
        json.dump({"name": "sharded", "data": {"train": train}, "training": {"checkpointEvery": 1000}}, f)
    return p


def run(tmp_path, cfg, steps):
    code, out, err = finish(launch(["--nproc_per_node", "2", "-m", "retrieval_lens.train", cfg, "--out", str(tmp_path / "runs"), "--steps", str(steps), *SMALL]))
    m = re.match(r"run: (.+)", out)
    assert m, out + err[-3000:]
    run_dir = m.group(1)
    with open(os.path.join(run_dir, "events.jsonl"), encoding="utf-8") as f:
        evs = [json.loads(line) for line in f if line.strip()]
    with open(os.path.join(run_dir, "meta.json"), encoding="utf-8") as f:
        meta = json.load(f)
    return code, meta, evs, err


def test_a_glob_of_plain_and_gzip_shards_trains_on_two_ranks_naming_its_shape(tmp_path) -> None:
    shards(str(tmp_path / "shards"))
    code, meta, evs, err = run(tmp_path, config(tmp_path, "shards/part-*"), 6)
    assert code == 0, err[-3000:]
    assert meta["status"] == "completed" and meta["step"] == 6
    logs = [e["message"] for e in evs if e["type"] == "log"]
    start = next(m for m in logs if "streamed" in m)
    assert re.fullmatch(
        r"at most 3000 training examples \(3000 data lines by the line index, one pair each; bad lines are counted when the first epoch is read\) "
        r"from .*/shards/part-\* \(jsonl: sentence-transformers anchor\+positive\(\+negative\), detected at part-1\.jsonl:1; the same in 3 files, "
        r"3 files, streamed, shuffle buffer 2000\); 6 steps of 32 per rank",
        start,
    ), start
    # Both ranks index the new shards at the same time: whichever wrote an index first, the other may read it from the
    # cache, so the split between "from cache" and "built" varies (CI run H); every file has its index either way.
    counts = [re.match(r"data\.train: line index of 3 files: (\d) from cache, (\d) built in", m) for m in logs]
    assert any(c and int(c.group(1)) + int(c.group(2)) == 3 for c in counts), logs
    assert [e["step"] for e in evs if e["type"] == "step"] == [1, 2, 3, 4, 5, 6]


def beir_folder(beir, n=400) -> None:
    """A BEIR folder (corpus, queries, qrels/train.tsv) of the first n pairs of the shop example."""
    os.makedirs(beir / "qrels")
    with open(SHOP, encoding="utf-8") as f:
        rows = [json.loads(next(f)) for _ in range(n)]
    with open(beir / "corpus.jsonl", "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps({"_id": r["item_id"], "text": r["positive"]}) + "\n")
    with open(beir / "queries.jsonl", "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps({"_id": r["query_id"], "text": r["query"]}) + "\n")
    with open(beir / "qrels" / "train.tsv", "w", encoding="utf-8") as f:
        f.write("query-id\tcorpus-id\tscore\n" + "".join(f"{r['query_id']}\t{r['item_id']}\t1\n" for r in rows))


def test_a_beir_folder_trains_on_two_ranks(tmp_path) -> None:
    beir_folder(tmp_path / "beir")
    code, meta, evs, err = run(tmp_path, config(tmp_path, "beir"), 3)
    assert code == 0, err[-3000:]
    assert meta["status"] == "completed"
    assert any(re.match(r"\d+ training examples from .*/beir \(beir\), 0 bad lines; 3 steps of 32 per rank", e["message"]) for e in evs if e["type"] == "log")


def test_too_many_bad_lines_end_the_run_failed_with_the_located_message(tmp_path) -> None:
    shards(str(tmp_path / "shards"), bad_shard=True)
    code, meta, _, err = run(tmp_path, config(tmp_path, "shards/part-*"), 6)
    assert code == 1
    assert meta["status"] == "failed"
    assert re.fullmatch(
        r"\d+ of \d+ lines \(\d+\.\d%\) in .*/shards/part-\* are malformed, more than data\.maxBadLineShare 5%; first: .*/shards/part-4\.jsonl:\d+: invalid JSON: .*",
        meta["error"]["message"],
    ), meta["error"]
