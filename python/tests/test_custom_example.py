"""examples/custom-pytorch/train.py end to end (a transformer encoder in a hand-written loop, real processes): it
trains N steps logged by Lens, `retrieval-lens runs` lists the run completed with every event line valid, and its
`eval --embeddings` evaluation wrote metrics (exact, IVF-PQ, BM25) and the failing queries."""

import json
import os
import subprocess
import sys

import pytest

from conftest import PYTHON_DIR, REPO

EXAMPLE = os.path.join(REPO, "examples", "custom-pytorch", "train.py")
CLI = os.path.join(REPO, "bin", "retrieval-lens.js")


def test_the_custom_pytorch_example_trains_logs_and_evaluates(tmp_path):
    if not os.path.exists(os.path.join(REPO, "dist", "cli.js")):
        pytest.fail("dist/cli.js is missing: run `npm run build` first (npm test does)")
    env = {**os.environ, "PYTHONPATH": PYTHON_DIR, "OMP_NUM_THREADS": "1"}
    p = subprocess.run([sys.executable, EXAMPLE, "--steps", "12", "--batch", "16", "--runs-dir", str(tmp_path)], capture_output=True, text=True, timeout=900, env=env)
    assert p.returncode == 0, p.stderr[-3000:]
    (run,) = [os.path.join(tmp_path, d) for d in os.listdir(tmp_path)]
    with open(os.path.join(run, "events.jsonl"), encoding="utf-8") as f:
        events = [json.loads(line) for line in f]
    assert [e["step"] for e in events if e["type"] == "step"] == [1, 10, 12]
    assert {e["step"] for e in events if e["type"] == "scalars"} == set(range(1, 13))
    assert events[-1]["type"] == "end" and events[-1]["status"] == "completed"
    listed = subprocess.run(["node", CLI, "runs", "--dir", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert listed.returncode == 0 and "completed" in listed.stdout and "12/12" in listed.stdout, listed.stdout
    assert "events.jsonl:" not in listed.stdout, listed.stdout  # every line valid for the TypeScript reader
    with open(os.path.join(run, "eval", "metrics.json"), encoding="utf-8") as f:
        (entry,) = json.load(f)["evaluations"]
    assert entry["step"] == 12 and entry["exact"] and entry["ann"] and entry["bm25"] and entry["queries"]["count"] == 1500
    assert entry["failures"]["count"] > 0
    with open(os.path.join(run, "eval", "failures.jsonl"), encoding="utf-8") as f:
        assert sum("queryId" in line for line in f) == entry["failures"]["count"]
    assert "recall@10:" in p.stdout
