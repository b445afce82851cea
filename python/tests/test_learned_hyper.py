"""Learned α / δ₀ / τ₀ (loss.trainable) and Adap-τ in the PyTorch trainer: located config errors, and a real
two-rank torchrun run whose learned δ₀ runs to its floor — the step events carry the trajectory and the verdict
names the value and the bound. (Loss values and ∂L/∂(α, δ₀, τ₀) against the TypeScript side: test_parity.py.)"""

import json
import os
import re

import pytest

from conftest import REPO, finish, launch
from retrieval_lens.config import ConfigError, load_config

CONFIG = os.path.join(REPO, "examples", "shop", "shop.rlens.json")


def test_trainable_names_the_loss_does_not_use_and_adap_tau_with_a_margin_loss_are_errors(tmp_path):
    cfg = tmp_path / "bad.rlens.json"
    cfg.write_text(json.dumps({"data": {"train": "x.jsonl"}, "loss": {"type": "margin", "temperatureRule": "adap-tau", "trainable": ["alpha", "tau0"]}}))
    with pytest.raises(ConfigError) as e:
        load_config(str(cfg))
    text = str(e.value)
    assert '$.loss.temperatureRule: "adap-tau" sets the temperature of the softmax loss' in text
    assert "$.loss.trainable[1]: τ₀ belongs to the softmax loss" in text
    assert "trainable[0]" not in text


def test_a_torchrun_run_drives_learned_delta0_to_its_floor_and_the_verdict_says_so(tmp_path):
    args = ["--nproc_per_node", "2", "-m", "retrieval_lens.train", CONFIG, "--out", str(tmp_path), "--steps", "60"]
    sets = {
        "training.batchSize": 32,
        "training.logEvery": 2,
        "model.vocabBuckets": 4096,
        "evaluation.every": 0,
        "loss.type": '"margin"',
        "loss.delta0": 0.05,
        "loss.trainable": '["delta0"]',
        "loss.trainableLearningRate.delta0": 0.5,
    }
    for k, v in sets.items():
        args += ["--set", f"{k}={v}"]
    code, out, err = finish(launch(args))
    assert code == 0, err[-3000:]
    m = re.fullmatch(r"run: (.+)", out.splitlines()[0])
    assert m, out
    run_dir = m.group(1)
    with open(os.path.join(run_dir, "events.jsonl"), encoding="utf-8") as f:
        evs = [json.loads(x) for x in f.read().splitlines() if x.strip()]
    steps = [e for e in evs if e["type"] == "step"]
    deltas = [s["learned"]["delta0"] for s in steps]
    assert deltas[0] < 0.05 and deltas[-1] < 1e-3, deltas
    warned = [s for s in steps if re.search(r"learned δ₀ \S+ at its floor 0 for 5 logged steps", s["verdict"]["reason"])]
    assert warned, [(s["step"], s["verdict"]) for s in steps]
    i = steps.index(warned[0])
    assert i >= 4 and all(s["learned"]["delta0"] <= 1e-3 for s in steps[i - 4 : i + 1])
    assert any(e["type"] == "log" and "at its floor" in e.get("message", "") for e in evs)
