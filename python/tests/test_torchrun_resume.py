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


def one_process(config, out, steps, *extra):
    """`python -m retrieval_lens.train` in this process's interpreter, one process (no torchrun)."""
    args = [sys.executable, "-m", "retrieval_lens.train", config, "--out", str(out), "--steps", str(steps), *extra]
    return subprocess.run(args, env=launch_env(), capture_output=True, text=True, timeout=600)


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
    one = one_process(CONFIG, tmp_path / "one", STEPS, *ARGS, "--resume", killed)
    assert one.returncode == 0, one.stderr[-3000:]
    single = only_run(tmp_path / "one")
    assert [s[0] for s in steps_of(single)] == list(range(k + 1, STEPS + 1))
    logs = [e["message"] for e in events(single) if e["type"] == "log"]
    assert any("the checkpoint was written by 2 ranks and this job has 1" in m and "epoch 1 starts again from its first pair" in m for m in logs), logs
    assert read_meta(single)["status"] == "completed"


def test_a_checkpoint_that_cannot_be_resumed_is_named_with_the_file_and_field(tmp_path):
    import pickle

    import pytest
    import torch

    from retrieval_lens.model import TwoTower, save_checkpoint
    from retrieval_lens.resume import ResumeError, read_resume, write_resume_files

    ckpt = tmp_path / "run" / "checkpoints" / "last"
    os.makedirs(ckpt)
    model = TwoTower({"vocabBuckets": 64, "embeddingDim": 4, "hiddenDim": 6, "outputDim": 3, "maxQueryTokens": 30, "maxItemTokens": 100, "charTrigrams": True, "sharedTowers": False})
    save_checkpoint(str(ckpt), model, 5)  # weights only, as the TypeScript trainer writes
    with pytest.raises(ResumeError, match=r"resume\.json: missing — this checkpoint holds weights only"):
        read_resume(str(tmp_path / "run"))

    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    data = {"kind": "stream", "worldSize": 2, "seed": 1, "dataLines": 10, "ranks": [[0, 3], [0, 3]]}
    write_resume_files(str(ckpt), 5, data, {}, [opt.state_dict()])
    assert read_resume(str(tmp_path / "run")).step == 5
    doc = json.loads((ckpt / "resume.json").read_text())
    doc["data"]["ranks"] = [[0, -1], [0, 3]]
    (ckpt / "resume.json").write_text(json.dumps(doc))
    with pytest.raises(ResumeError, match=r"resume\.json: \$\.data\.ranks is not a list of \[epoch, pairs\]"):
        read_resume(str(tmp_path / "run"))

    doc["data"]["ranks"] = [[0, 3], [0, 3]]
    (ckpt / "resume.json").write_text(json.dumps(doc))

    class Hostile:
        def __reduce__(self):
            return (os.system, ("touch " + str(tmp_path / "pwned"),))

    (ckpt / "optimizer.pt").write_bytes(pickle.dumps({"0/0/step": Hostile()}))
    with pytest.raises(ResumeError, match=r"optimizer\.pt: cannot be read as optimizer state"):
        read_resume(str(tmp_path / "run"))
    assert not (tmp_path / "pwned").exists()


def test_a_beir_run_of_two_ranks_resumed_by_one_process_continues_the_same_global_batches(tmp_path):
    # A BEIR folder has one global order (a seeded permutation per epoch): 2 ranks × 32 pairs and 1 process × 64
    # pairs train the same global batches, so the resumed steps match the uninterrupted run's up to float
    # summation order. 400 pairs, 64 a step: the checkpoint at step 8 is inside epoch 2.
    from test_torchrun_data import beir_folder, config

    beir_folder(tmp_path / "beir")
    cfg = config(tmp_path, "beir")
    small = ["--set", "training.logEvery=1", "--set", "model.vocabBuckets=4096", "--set", "training.checkpointEvery=4"]

    def ranks2(out, steps):
        return ["--nproc_per_node", "2", "-m", "retrieval_lens.train", cfg, "--out", str(out), "--steps", str(steps), *small, "--set", "training.batchSize=32"]

    code, _, err = finish(launch(ranks2(tmp_path / "whole", 11)))
    assert code == 0, err[-3000:]
    code, _, err = finish(launch(ranks2(tmp_path / "part", 8)))
    assert code == 0, err[-3000:]
    part = only_run(tmp_path / "part")
    with open(os.path.join(part, "checkpoints", "last", "resume.json"), encoding="utf-8") as f:
        assert json.load(f)["data"] == {"kind": "memory", "worldSize": 2, "seed": 42, "dataLines": 400, "ranks": [[1, 112], [1, 112]]}
    one = one_process(cfg, tmp_path / "one", 11, *small, "--set", "training.batchSize=64", "--resume", part)
    assert one.returncode == 0, one.stderr[-3000:]
    single = only_run(tmp_path / "one")
    whole = steps_of(only_run(tmp_path / "whole"))[8:]
    resumed = steps_of(single)
    assert [s[:2] for s in resumed] == [s[:2] for s in whole] == [(9, 1), (10, 1), (11, 1)]
    for (_, _, loss, norm), (_, _, loss2, norm2) in zip(resumed, whole, strict=True):
        assert abs(loss - loss2) <= 1e-4 * abs(loss2) and abs(norm - norm2) <= 1e-3 * norm2, (resumed, whole)
    logs = [e["message"] for e in events(single) if e["type"] == "log"]
    assert any(m.startswith("data position: epoch 2, pair 112 of its seeded permutation of the 400 pairs") for m in logs), logs


LEARNED = ["--set", 'loss.type="margin"', "--set", 'loss.trainable=["alpha","delta0"]', "--set", "loss.trainableLearningRate.alpha=0.1", "--set", "loss.trainableLearningRate.delta0=0.1"]


def test_a_resumed_learnable_run_continues_from_the_learned_values_and_their_adam_state(tmp_path):
    # One process, 12 steps, checkpoints every 4: the run stopped at 8 and resumed goes on as the whole run did, its
    # learned α / δ₀ included (before they were stored, the resumed run restarted them from the config's 0.5 / 0.01).
    whole_p = one_process(CONFIG, tmp_path / "whole", 12, *ARGS, "--set", "training.checkpointEvery=4", *LEARNED)
    assert whole_p.returncode == 0, whole_p.stderr[-3000:]
    part_p = one_process(CONFIG, tmp_path / "part", 8, *ARGS, "--set", "training.checkpointEvery=4", *LEARNED)
    assert part_p.returncode == 0, part_p.stderr[-3000:]
    part = only_run(tmp_path / "part")
    with open(os.path.join(part, "checkpoints", "last", "resume.json"), encoding="utf-8") as f:
        assert sorted(json.load(f)["learned"]["theta"]) == ["alpha", "delta0"]
    with open(os.path.join(part, "checkpoints", "last", "model.json"), encoding="utf-8") as f:
        stored = json.load(f)["checkpoint"]["extra"]["learned"]
    part_steps = [e for e in events(part) if e["type"] == "step"]
    assert stored == part_steps[-1]["learned"] and stored["alpha"] < 0.49, stored

    res_p = one_process(CONFIG, tmp_path / "resumed", 12, *ARGS, "--set", "training.checkpointEvery=4", *LEARNED, "--resume", part)
    assert res_p.returncode == 0, res_p.stderr[-3000:]
    resumed = only_run(tmp_path / "resumed")
    got = [(e["step"], e["loss"], e["learned"]) for e in events(resumed) if e["type"] == "step"]
    want = [(e["step"], e["loss"], e["learned"]) for e in events(only_run(tmp_path / "whole")) if e["type"] == "step"][8:]
    assert [g[0] for g in got] == [w[0] for w in want] == [9, 10, 11, 12]
    for (_, loss, learned), (_, loss2, learned2) in zip(got, want, strict=True):
        assert abs(loss - loss2) <= 1e-6 * abs(loss2), (got, want)
        for k in ("alpha", "delta0"):
            assert abs(learned[k] - learned2[k]) <= 1e-9 * abs(learned2[k]), (got, want)
    logs = [e["message"] for e in events(resumed) if e["type"] == "log"]
    assert any(m.startswith("learned values from the checkpoint: α ") and "with their Adam state" in m for m in logs), logs
