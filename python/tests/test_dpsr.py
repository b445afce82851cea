"""DPSR multi-head query tower (model.preset "dpsr"), PyTorch half: torch autograd through retrieval_lens.towers.dpsr and
losses.retrieval_loss gives the TypeScript trainer's loss and hand-written gradients (test/fixtures/parity/dpsr.json,
written by dpsrGenerate.ts) within 1e-5 for every loss variant; the tower gives K unit heads; checkpoints record preset
and heads and read back; the config refuses queryHeads without dpsr and "mgdspr" (not in this build)."""

import json
import os

import numpy as np
import pytest
import torch
from conftest import REPO
from retrieval_lens.config import ConfigError, load_config
from retrieval_lens.losses import LossConfig, retrieval_loss
from retrieval_lens.model import TwoTower, load_checkpoint, save_checkpoint
from retrieval_lens.towers.dpsr import DPSR_BETA

with open(os.path.join(REPO, "test", "fixtures", "parity", "dpsr.json"), encoding="utf-8") as f:
    FIXTURE = json.load(f)
CASES = [(b, v) for b in FIXTURE["batches"] for v in FIXTURE["variants"]]
TOL = 1e-5


@pytest.mark.parametrize("batch,variant", CASES, ids=[f"{b['name']}: {v['name']}" for b, v in CASES])
def test_dpsr_loss_and_gradients_match_the_typescript_trainer(batch, variant):
    assert FIXTURE["beta"] == DPSR_BETA
    B, K, D = batch["B"], batch["K"], batch["D"]
    q = torch.tensor(batch["q"], dtype=torch.float64).view(B, K, D).requires_grad_(True)
    items = torch.tensor(batch["items"], dtype=torch.float64, requires_grad=True)
    out = retrieval_loss(q, items, torch.tensor(batch["negMask"]).bool(), LossConfig.from_config(variant["loss"]))
    out.loss.backward()
    assert q.grad is not None and items.grad is not None
    exp = FIXTURE["expected"][batch["name"]][variant["name"]]
    assert abs(float(out.loss) - exp["loss"]) <= TOL and abs(float(out.loss_q) - exp["lossQ"]) <= TOL and abs(float(out.loss_sym) - exp["lossSym"]) <= TOL
    assert np.abs(q.grad.view(B, K * D).numpy() - np.array(exp["dq"])).max() <= TOL
    assert np.abs(items.grad.numpy() - np.array(exp["dItems"])).max() <= TOL
    assert np.abs(np.array(exp["dq"])).max() > 1e-3  # the comparison can fail


def test_dpsr_tower_gives_unit_heads_and_checkpoints_keep_preset_and_heads(tmp_path):
    model = {"vocabBuckets": 64, "embeddingDim": 4, "hiddenDim": 6, "outputDim": 5, "sharedTowers": False, "preset": "dpsr", "queryHeads": 3}
    m = TwoTower(model)
    q, v = m([[1, 2], [3]], [[4], [5, 6]])
    assert q.shape == (2, 3, 5) and v.shape == (2, 5)
    assert torch.allclose(q.norm(dim=-1), torch.ones(2, 3), atol=1e-6)
    save_checkpoint(str(tmp_path), m, 7)
    back, info = load_checkpoint(str(tmp_path))
    assert info["model"]["preset"] == "dpsr" and info["model"]["queryHeads"] == 3
    assert torch.equal(back.query.w2, m.query.w2) and back.query.heads == 3


def _config(tmp_path, model: dict) -> str:
    path = tmp_path / "x.rlens.json"
    path.write_text(json.dumps({"data": {"train": "train.jsonl"}, "model": model}))
    return str(path)


def test_config_refuses_query_heads_without_dpsr_and_mgdspr(tmp_path):
    with pytest.raises(ConfigError, match=r'\$\.model\.queryHeads: is used only with model\.preset "dpsr"'):
        load_config(_config(tmp_path, {"queryHeads": 2}))
    with pytest.raises(ConfigError, match=r"\$\.model\.queryHeads: must be >= 1"):
        load_config(_config(tmp_path, {"preset": "dpsr", "queryHeads": 0}))
    with pytest.raises(ConfigError, match=r'\$\.model\.preset: "mgdspr" is not available in this build'):
        load_config(_config(tmp_path, {"preset": "mgdspr"}))
    assert load_config(_config(tmp_path, {"preset": "dpsr", "queryHeads": 2}))["model"]["queryHeads"] == 2
