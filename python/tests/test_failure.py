"""A NaN loss ends a PyTorch run `failed` the way the TypeScript trainer ends it: the error names the step
and the quantity, `end` comes before the final meta.json, and `retrieval-lens runs` reads it."""

import json
import os
import subprocess

import pytest

import retrieval_lens.losses as losses_module
import retrieval_lens.train as train_module
from conftest import REPO

SHOP = os.path.join(REPO, "examples", "shop", "shop.rlens.json")


def test_a_nan_loss_fails_the_run_naming_step_and_quantity(tmp_path, monkeypatch, capsys):
    real = losses_module.retrieval_loss
    calls = {"n": 0}

    def nan_at_step_3(q, items, *a, **kw):
        calls["n"] += 1
        if calls["n"] == 3:  # a NaN embedding, as a diverging model would produce
            items = items.clone()
            items[0, 0] = float("nan")
        return real(q, items, *a, **kw)

    monkeypatch.setattr(losses_module, "retrieval_loss", nan_at_step_3)
    args = [SHOP, "--out", str(tmp_path), "--steps", "5", "--set", "training.batchSize=16", "--set", "model.vocabBuckets=1024", "--set", "evaluation.every=0", "--set", "training.checkpointEvery=2"]
    code = train_module.train(args)
    assert code == 1
    (run,) = os.listdir(tmp_path)
    run_dir = os.path.join(tmp_path, run)
    meta = json.load(open(os.path.join(run_dir, "meta.json")))
    assert meta["status"] == "failed" and meta["step"] == 2
    assert meta["error"]["quantity"] == "loss" and meta["error"]["step"] == 3
    assert meta["error"]["message"].startswith("loss is NaN at step 3; the run was stopped (last checkpoint kept, from step 2).")
    events = [json.loads(line) for line in open(os.path.join(run_dir, "events.jsonl"))]
    assert events[-1]["type"] == "end" and events[-1]["status"] == "failed" and events[-1]["error"] == meta["error"]
    assert json.load(open(os.path.join(run_dir, "checkpoints", "last", "model.json")))["checkpoint"]["step"] == 2
    if not os.path.exists(os.path.join(REPO, "dist", "cli.js")):
        pytest.fail("dist/cli.js is missing: run `npm run build` first (npm test does)")
    listed = subprocess.run(["node", os.path.join(REPO, "bin", "retrieval-lens.js"), "runs", "--dir", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert listed.returncode == 0 and "failed" in listed.stdout and "events.jsonl:" not in listed.stdout, listed.stdout
