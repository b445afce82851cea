"""retrieval_lens.Lens in a hand-written loop: the run folder it writes is read by the TypeScript CLI
(`retrieval-lens runs`, which validates every event line against the TypeBox schemas), an exception ends the
run failed with the step, a NaN loss names the quantity, a killed process reads as crashed with every logged
step intact, and only rank 0 writes."""

import json
import os
import signal
import subprocess
import sys
from typing import Any, Dict, List

import pytest
import torch

from conftest import PYTHON_DIR, REPO
from retrieval_lens import Lens
from retrieval_lens.losses import AdaptiveMarginLoss, AdaptiveSoftmaxLoss

CLI = os.path.join(REPO, "bin", "retrieval-lens.js")


def cli(*args: str) -> subprocess.CompletedProcess:
    if not os.path.exists(os.path.join(REPO, "dist", "cli.js")):
        pytest.fail("dist/cli.js is missing: run `npm run build` first (npm test does)")
    return subprocess.run(["node", CLI, *args], capture_output=True, text=True, timeout=120, cwd=REPO)


def events(run_dir: str) -> List[Dict[str, Any]]:
    with open(os.path.join(run_dir, "events.jsonl"), encoding="utf-8") as f:
        return [json.loads(line) for line in f.read().splitlines() if line.strip()]


def meta(run_dir: str) -> Dict[str, Any]:
    with open(os.path.join(run_dir, "meta.json"), encoding="utf-8") as f:
        return json.load(f)


def batch(step: int, B: int = 12, D: int = 16):
    g = torch.Generator().manual_seed(step)
    q = torch.randn(B, D, generator=g)
    return q, q + 0.4 * torch.randn(B, D, generator=g)


def test_a_logged_loop_is_listed_by_the_typescript_cli_with_every_event_valid(tmp_path):
    loss_fn = AdaptiveSoftmaxLoss(tau0=0.05)
    with Lens(str(tmp_path), "my encoder", config={"lr": 0.01, "encoder": "mlp"}, total_steps=12, loss=loss_fn, log_every=5) as lens:
        for step in range(1, 13):
            q, v = batch(step)
            out = loss_fn(q, v, ids=[f"p{j % 10}" for j in range(12)])  # rows 10, 11 repeat items 0, 1
            lens.log(step, out, lr=0.01, grad_norm=0.5)
            lens.log_scalars(step, {"lr": 0.01, "custom/loss": out.loss, "bad": float("nan")})
    run = lens.dir
    ev = events(run)
    assert [e["step"] for e in ev if e["type"] == "step"] == [1, 5, 10, 12]
    assert sum(e["type"] == "scalars" for e in ev) == 12 and ev[-2]["values"]["bad"] is None
    step12 = [e for e in ev if e["type"] == "step"][-1]
    assert step12["diagnostics"]["dist"]["tau"]["count"] == 12 * 11 - 4 and step12["diagnostics"]["dist"]["delta"] is None
    assert step12["verdict"]["state"] in ("initialising", "healthy", "warning", "collapsing", "collapsed", "never-separated")
    assert ev[0]["config"]["encoder"] == "mlp" and ev[0]["config"]["trainer"] == "custom loop"
    m = meta(run)
    assert m["status"] == "completed" and m["step"] == 12 and m["totalSteps"] == 12
    with open(os.path.join(run, "config.json"), encoding="utf-8") as f:
        cfg = json.load(f)
    assert cfg["loss"]["tau0"] == 0.05 and cfg["training"]["logEvery"] == 5
    listed = cli("runs", "--dir", str(tmp_path))
    assert listed.returncode == 0 and "completed" in listed.stdout and "12/12" in listed.stdout, listed.stdout
    assert "events.jsonl:" not in listed.stdout, listed.stdout
    # the reader does check scalars events: a malformed one is reported with its line number
    with open(os.path.join(run, "events.jsonl"), "a", encoding="utf-8") as f:
        f.write('{"v":2,"type":"scalars","time":"2026-01-01T00:00:00.000Z","step":13,"values":{"lr":"high"}}\n')
    listed = cli("runs", "--dir", str(tmp_path))
    assert f"events.jsonl:{len(ev) + 1}" in listed.stdout and "values.lr" in listed.stdout, listed.stdout


def test_raw_embeddings_are_scored_with_the_lens_loss_settings(tmp_path):
    with Lens(str(tmp_path), "raw", loss=AdaptiveMarginLoss(delta0=0.5, alpha=0.3), log_every=1) as lens:
        q, v = batch(1)
        assert lens.log(1, q=q, v=v, ids=list(range(12)))
    (step,) = [e for e in events(lens.dir) if e["type"] == "step"]
    delta = step["diagnostics"]["dist"]["delta"]
    assert delta["count"] == 12 * 11 and 0.5 <= delta["min"] <= delta["max"] <= 0.5 + 2 * 0.3
    assert step["loss"] > 0 and step["diagnostics"]["dist"]["tau"] is None


def test_an_exception_in_the_loop_ends_the_run_failed_at_the_step_being_computed(tmp_path):
    loss_fn = AdaptiveSoftmaxLoss()
    lens = None
    with pytest.raises(RuntimeError, match="out of memory"):
        with Lens(str(tmp_path), "boom", total_steps=10, loss=loss_fn, log_every=1) as lens:
            for step in range(1, 11):
                if step == 4:
                    raise RuntimeError("CUDA out of memory (simulated)")
                lens.log(step, loss_fn(*batch(step)))
    assert lens is not None
    m = meta(lens.dir)
    assert m["status"] == "failed" and m["step"] == 3
    assert m["error"] == {"message": "RuntimeError: CUDA out of memory (simulated)", "step": 4}
    ev = events(lens.dir)
    assert [e["step"] for e in ev if e["type"] == "step"] == [1, 2, 3]
    assert ev[-1] == {**ev[-1], "type": "end", "status": "failed", "step": 3}
    assert "failed" in cli("runs", "--dir", str(tmp_path)).stdout


def test_a_nan_loss_fails_the_run_naming_the_quantity(tmp_path):
    loss_fn = AdaptiveSoftmaxLoss()
    lens = None
    with pytest.raises(FloatingPointError):
        with Lens(str(tmp_path), "nan", loss=loss_fn, log_every=1) as lens:
            lens.log(1, loss_fn(*batch(1)))
            q, v = batch(2)
            q[0, 0] = float("nan")
            lens.log(2, loss_fn(q, v))
    assert lens is not None
    m = meta(lens.dir)
    assert m["status"] == "failed" and m["error"]["quantity"] == "loss" and m["error"]["step"] == 2
    assert m["error"]["message"].startswith("loss is NaN at step 2; the run was stopped.")


KILLED = """
import os, signal, sys, torch
from retrieval_lens import Lens
from retrieval_lens.losses import AdaptiveSoftmaxLoss
loss_fn = AdaptiveSoftmaxLoss()
lens = Lens(sys.argv[1], "killed", total_steps=100, loss=loss_fn, log_every=1)
lens.start()
for step in range(1, 4):
    q = torch.randn(8, 4); lens.log(step, loss_fn(q, q + 0.3 * torch.randn(8, 4)))
print(lens.dir, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_killed_process_reads_as_crashed_with_every_logged_step(tmp_path):
    p = subprocess.run([sys.executable, "-c", KILLED, str(tmp_path)], capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": PYTHON_DIR})
    assert p.returncode == -signal.SIGKILL, p.stderr
    run = p.stdout.strip()
    assert meta(run)["status"] == "running"
    assert [e["step"] for e in events(run) if e["type"] == "step"] == [1, 2, 3]
    listed = cli("runs", "--dir", str(tmp_path))
    assert "crashed" in listed.stdout and "3/100" in listed.stdout, listed.stdout


def test_only_rank_0_writes(tmp_path, monkeypatch):
    monkeypatch.setenv("RANK", "1")
    loss_fn = AdaptiveSoftmaxLoss()
    with Lens(str(tmp_path), "rank1", loss=loss_fn, log_every=1) as lens:
        assert lens.log(1, loss_fn(*batch(1))) is False
        lens.log_scalars(1, {"x": 1.0})
    assert lens.dir is None and os.listdir(tmp_path) == []


def test_log_scalars_names_a_value_that_is_not_a_number(tmp_path):
    with Lens(str(tmp_path), "scalars") as lens:
        with pytest.raises(TypeError, match="log_scalars: lr: expected a number, got str"):
            lens.log_scalars(1, {"lr": "0.1"})
        with pytest.raises(TypeError, match="expected a number, got a tensor of shape \\[2\\]"):
            lens.log_scalars(1, {"g": torch.ones(2)})
