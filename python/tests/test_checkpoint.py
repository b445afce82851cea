"""Checkpoints in the documented weight format (docs/run-format.md §7): what PyTorch writes, the TypeScript
reader (src/core/model/checkpoint.ts) reads as the same weights, with separate and shared towers."""

import json
import os
import subprocess

import pytest
import torch

from conftest import REPO
from retrieval_lens.model import TwoTower, load_checkpoint, save_checkpoint

MODEL = {"vocabBuckets": 64, "embeddingDim": 4, "hiddenDim": 6, "outputDim": 3, "maxQueryTokens": 30, "maxItemTokens": 100, "charTrigrams": True}


@pytest.mark.parametrize("shared", [False, True])
def test_a_pytorch_checkpoint_reads_back_in_python_and_typescript(tmp_path, shared):
    torch.manual_seed(1)
    model = TwoTower({**MODEL, "sharedTowers": shared})
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p))  # non-zero biases too
    save_checkpoint(str(tmp_path), model, 7, {"backend": "torch-cpu"})
    names = ["shared"] if shared else ["query", "item"]
    expected_bytes = 4 * len(names) * (64 * 4 + 4 * 6 + 6 + 6 * 3 + 3)
    assert os.path.getsize(tmp_path / "weights.bin") == expected_bytes

    again, info = load_checkpoint(str(tmp_path))
    assert info["step"] == 7 and info["model"]["sharedTowers"] == shared
    for (n1, a), (n2, b) in zip(model.named_parameters(), again.named_parameters(), strict=True):
        assert n1 == n2 and torch.equal(a, b)

    r = subprocess.run(
        ["node", "--import", "tsx", os.path.join(REPO, "test", "fixtures", "parity", "readCheckpoint.ts"), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert r.returncode == 0, r.stderr
    ts = json.loads(r.stdout)
    assert ts["dims"] == {"vocab": 64, "embed": 4, "hidden": 6, "out": 3} and ts["shared"] == shared and ts["step"] == 7
    for prefix, tower in model.named_towers():
        for name, t in tower.named_weights():
            w = ts["weights"][f"{prefix}/{name}"]
            flat = t.detach().reshape(-1)
            assert w["length"] == flat.numel() and w["first"] == pytest.approx(float(flat[0]), abs=0)
            assert w["sum"] == pytest.approx(float(flat.double().sum()), abs=1e-5)
