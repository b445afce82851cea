"""Resuming a PyTorch run (`--resume RUN`, retrieval_lens/resume.py) with real processes: a 2-rank gloo run killed
with SIGKILL after a checkpoint, resumed on 2 ranks, trains exactly the steps the uninterrupted run trained next
(same step numbers, epochs, losses and gradient norms to the bit: same weights, optimizer state and pairs); its
checkpoint is evaluated by `retrieval-lens eval`; resumed by one process it continues the step count and says in the
log what the data position means for a different number of ranks."""

import json
import os
import signal
import subprocess
import sys

from conftest import finish, launch, launch_env
from test_torchrun_run import CONFIG, SMALL, cli, events, read_meta, wait_for_steps

STEPS = 15
ARGS = [*SMALL, "--set", "evaluation.every=0", "--set", "training.checkpointEvery=3", "--set", "data.shuffleBuffer=64"]


def two_ranks(out, steps, *extra):
    return ["--nproc_per_node", "2", "-m", "retrieval_lens.train", CONFIG, "--out", str(out), "--steps", str(steps), *ARGS, *extra]


def steps_of(run_dir):
    return [(e["step"], e["epoch"], e["loss"], e["gradNorm"]) for e in events(run_dir) if e["type"] == "step"]


def only_run(root):
    (name,) = os.listdir(root)
    return os.path.join(root, name)


def test_a_killed_two_rank_run_resumes_with_the_step_count_and_data_order_of_the_uninterrupted_run(tmp_path):
    code, _, err = finish(launch(two_ranks(tmp_path / "whole", STEPS)))
    assert code == 0, err[-3000:]
    whole = steps_of(only_run(tmp_path / "whole"))
    assert [s[0] for s in whole] == list(range(1, STEPS + 1))

    p = launch(two_ranks(tmp_path / "killed", 100000))
    killed = wait_for_steps(p, str(tmp_path / "killed"), 4)  # step 4 logged: the checkpoint of step 3 is written
    os.killpg(p.pid, signal.SIGKILL)
    p.communicate()
    with open(os.path.join(killed, "checkpoints", "last", "resume.json"), encoding="utf-8") as f:
        state = json.load(f)
    k = state["step"]
    assert k % 3 == 0 and 3 <= k <= STEPS - 2 and state["data"]["worldSize"] == 2 and len(state["data"]["ranks"]) == 2

    code, out, err = finish(launch(two_ranks(tmp_path / "resumed", STEPS, "--resume", killed)))
    assert code == 0, err[-3000:]
    resumed = only_run(tmp_path / "resumed")
    assert read_meta(resumed)["status"] == "completed" and read_meta(resumed)["step"] == STEPS
    # Steps k+1… of the resumed run are those of the uninterrupted run: same pairs, weights and optimizer state.
    assert steps_of(resumed) == whole[k:]
    logs = [e["message"] for e in events(resumed) if e["type"] == "log"]
    assert any(m.startswith(f"resumed from {killed}/checkpoints/last at step {k} ") for m in logs), logs
    assert any("each rank continues its share where the checkpoint left it" in m for m in logs), logs

    ev = cli("eval", resumed, "--checkpoint", "last")
    assert ev.returncode == 0, ev.stderr[-3000:]
    with open(os.path.join(resumed, "eval", "metrics.json"), encoding="utf-8") as f:
        entry = json.load(f)["evaluations"][-1]
    assert entry["step"] == STEPS and entry["checkpoint"] == "checkpoints/last" and entry["exact"]["recall@100"] > 0

    # One process resumes the same checkpoint: the step count goes on; the log says where the data starts.
    one = subprocess.run(
        [sys.executable, "-m", "retrieval_lens.train", CONFIG, "--out", str(tmp_path / "one"), "--steps", str(STEPS), *ARGS, "--resume", killed],
        env=launch_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert one.returncode == 0, one.stderr[-3000:]
    single = only_run(tmp_path / "one")
    assert [s[0] for s in steps_of(single)] == list(range(k + 1, STEPS + 1))
    logs = [e["message"] for e in events(single) if e["type"] == "log"]
    assert any("the checkpoint was written by 2 ranks and this job has 1" in m and "epoch 1 starts again from its first pair" in m for m in logs), logs
    assert read_meta(single)["status"] == "completed"
