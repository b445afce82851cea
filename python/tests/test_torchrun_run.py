"""The PyTorch trainer under torchrun (2 gloo ranks on CPU, real processes) on the bundled example: the run
folder it writes is listed by `retrieval-lens runs` (every event valid for the TypeScript reader) and
evaluated by `retrieval-lens eval` with Faiss; Ctrl-C stops it with a checkpoint; killing one rank leaves a
run that reads as crashed with every logged step intact."""

import json
import os
import re
import signal
import subprocess
import time

import pytest

from conftest import REPO, finish, launch

CONFIG = os.path.join(REPO, "examples", "shop", "shop.rlens.json")
CLI = os.path.join(REPO, "bin", "retrieval-lens.js")
SMALL = ["--set", "training.batchSize=32", "--set", "training.logEvery=1", "--set", "model.vocabBuckets=4096"]


def train_args(out, steps, *extra):
    return ["--nproc_per_node", "2", "-m", "retrieval_lens.train", CONFIG, "--out", str(out), "--steps", str(steps), *SMALL, *extra]


def cli(*args, timeout=600):
    if not os.path.exists(os.path.join(REPO, "dist", "cli.js")):
        pytest.fail("dist/cli.js is missing: run `npm run build` first (npm test does)")
    return subprocess.run(["node", CLI, *args], capture_output=True, text=True, timeout=timeout, cwd=REPO)


def events(run_dir):
    with open(os.path.join(run_dir, "events.jsonl"), encoding="utf-8") as f:
        return [json.loads(line) for line in f.read().splitlines() if line.strip()]


def read_meta(run_dir):
    with open(os.path.join(run_dir, "meta.json"), encoding="utf-8") as f:
        return json.load(f)


def wait_for_steps(p, runs_root, n, timeout=600):
    """The run folder once its events.jsonl holds n step events (the job must still be running)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert p.poll() is None, f"the job ended early: {p.stderr.read()[-3000:]}"
        dirs = [os.path.join(runs_root, d) for d in os.listdir(runs_root)] if os.path.isdir(runs_root) else []
        if dirs and os.path.exists(os.path.join(dirs[0], "events.jsonl")):
            with open(os.path.join(dirs[0], "events.jsonl"), encoding="utf-8") as f:
                if sum('"type":"step"' in line for line in f.read().splitlines()) >= n:
                    return dirs[0]
        time.sleep(0.2)
    os.killpg(p.pid, signal.SIGKILL)
    raise AssertionError(f"no {n} logged steps within {timeout} s")


def test_a_two_rank_run_is_listed_and_evaluated_by_the_typescript_cli(tmp_path):
    # Periodic evaluation on every test query, so that it can be checked against `retrieval-lens eval`.
    code, out, err = finish(launch(train_args(tmp_path, 4, "--set", "training.checkpointEvery=2", "--set", "evaluation.every=2", "--set", "evaluation.heldOutQueries=100000")))
    assert code == 0, err[-3000:]
    lines = out.splitlines()
    m = re.fullmatch(r"run: (.+)", lines[0])
    assert m, out
    run_dir = m.group(1)
    assert lines[-1] == f"completed at step 4: {run_dir}"
    meta = read_meta(run_dir)
    assert meta["status"] == "completed" and meta["step"] == 4 and meta["versions"]["worldSize"] == "2"
    steps = [e for e in events(run_dir) if e["type"] == "step"]
    periodic = [e for e in events(run_dir) if e["type"] == "eval"]
    assert [e["step"] for e in periodic] == [2, 4] and periodic[-1]["metrics"]["queries"] == 1500
    assert [e["step"] for e in steps] == [1, 2, 3, 4]
    # 2 ranks × 32 pairs: every query is ranked among the 64 gathered positives (+ its explicit negatives).
    assert steps[0]["diagnostics"]["dist"]["sQV"]["count"] == 32
    assert steps[0]["diagnostics"]["dist"]["sQNeg"]["count"] >= 32 * 60

    listed = cli("runs", "--dir", str(tmp_path))
    assert listed.returncode == 0, listed.stderr
    assert "events.jsonl:" not in listed.stdout + listed.stderr, listed.stdout  # no malformed line
    assert re.search(r"completed\s+4/4\s+torch-cpu", listed.stdout), listed.stdout

    ev = cli("eval", run_dir, "--checkpoint", "last")
    assert ev.returncode == 0, ev.stderr[-3000:]
    with open(os.path.join(run_dir, "eval", "metrics.json"), encoding="utf-8") as f:
        entry = json.load(f)["evaluations"][-1]
    # Started alone (no launcher): every test query against the whole corpus, no BM25 reference.
    assert entry["step"] == 4 and entry["corpus"]["count"] == periodic[-1]["heldOut"]["corpus"] == periodic[-1]["heldOut"]["corpusTotal"]
    assert periodic[-1]["heldOut"]["sampled"] is False and "bm25/recall@10" not in periodic[-1]["metrics"]
    assert periodic[-1]["quality"]["state"] in ("measuring", "learning")
    # The Faiss evaluation of the written checkpoint agrees with the trainer's own exact search at that step.
    for k in ("recall@1", "recall@10", "recall@100", "mrr@10", "ndcg@10"):
        assert abs(entry["exact"][k] - periodic[-1]["metrics"][k]) <= 2e-3, (k, entry["exact"][k], periodic[-1]["metrics"][k])
    assert entry["exact"]["recall@100"] > 0.05
    assert events(run_dir)[-1]["type"] == "eval"


def test_ctrl_c_to_the_process_group_stops_after_the_step_with_a_checkpoint(tmp_path):
    p = launch(train_args(tmp_path, 100000, "--set", "evaluation.every=0"))
    run_dir = wait_for_steps(p, str(tmp_path), 2)
    os.killpg(p.pid, signal.SIGINT)
    finish(p, 300)
    meta = read_meta(run_dir)
    assert meta["status"] == "stopped", meta
    last = meta["checkpoints"]["last"]
    assert last["step"] == meta["step"] >= 2
    with open(os.path.join(run_dir, "checkpoints", "last", "model.json"), encoding="utf-8") as f:
        assert json.load(f)["checkpoint"]["step"] == meta["step"]
    end = events(run_dir)[-1]
    assert end["type"] == "end" and end["status"] == "stopped" and end["step"] == meta["step"]


def children(pid):
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(d))
            except (OSError, IndexError, ValueError):
                pass
    return out


def test_killing_one_rank_leaves_a_crashed_run_with_every_logged_step(tmp_path):
    p = launch(train_args(tmp_path, 100000, "--set", "evaluation.every=0"))
    run_dir = wait_for_steps(p, str(tmp_path), 3)
    rank0 = read_meta(run_dir)["pid"]
    others = [c for c in children(p.pid) if c != rank0]
    assert len(others) == 1, (rank0, children(p.pid))
    os.kill(others[0], signal.SIGKILL)
    code, _, _ = finish(p, 300)
    assert code != 0
    with open(os.path.join(run_dir, "events.jsonl"), encoding="utf-8") as f:
        raw = f.read()
    complete = raw.splitlines()[: raw.count("\n")]
    parsed = [json.loads(line) for line in complete]  # every complete line is an event
    steps = [e["step"] for e in parsed if e["type"] == "step"]
    assert len(steps) >= 3 and steps == list(range(1, len(steps) + 1))
    assert not any(e["type"] == "end" for e in parsed)
    listed = cli("runs", "--dir", str(tmp_path))
    assert listed.returncode == 0, listed.stderr
    assert "events.jsonl:" not in listed.stdout + listed.stderr, listed.stdout
    assert re.search(r"\bcrashed\b", listed.stdout), listed.stdout
