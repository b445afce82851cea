"""DPSR multi-head query tower (model.preset "dpsr"), PyTorch half: torch autograd through retrieval_lens.towers.dpsr and
losses.retrieval_loss gives the TypeScript trainer's loss and hand-written gradients (test/fixtures/parity/dpsr.json,
written by dpsrGenerate.ts) within 1e-5 for every loss variant; the tower gives K unit heads; checkpoints record preset
and heads and read back; the config refuses queryHeads without dpsr and dpsr with shared towers; a "dpsr" and an
"mgdspr" config both load and build their towers in one build."""

import json
import os

import numpy as np
import pytest
import torch
from conftest import REPO, model_config
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


def test_config_refuses_query_heads_without_dpsr_and_shared_dpsr_towers(tmp_path):
    with pytest.raises(ConfigError, match=r'\$\.model\.queryHeads: is used only with model\.preset "dpsr"'):
        load_config(model_config(tmp_path, {"queryHeads": 2}))
    with pytest.raises(ConfigError, match=r"\$\.model\.queryHeads: must be >= 1"):
        load_config(model_config(tmp_path, {"preset": "dpsr", "queryHeads": 0}))
    with pytest.raises(ConfigError, match=r'\$\.model\.queryHeads: is used only with model\.preset "dpsr" \(preset is "mgdspr"\)'):
        load_config(model_config(tmp_path, {"preset": "mgdspr", "queryHeads": 2}))
    with pytest.raises(ConfigError, match=r"\$\.model\.sharedTowers: cannot be true with model\.preset \"dpsr\""):
        load_config(model_config(tmp_path, {"preset": "dpsr", "sharedTowers": True}))
    assert load_config(model_config(tmp_path, {"preset": "dpsr", "queryHeads": 2}))["model"]["queryHeads"] == 2


def test_dpsr_and_mgdspr_configs_both_load_and_build_in_one_build(tmp_path):
    dims = {"vocabBuckets": 64, "embeddingDim": 4, "hiddenDim": 6, "outputDim": 3}
    shapes = []
    for preset, extra in (("dpsr", {"queryHeads": 3}), ("mgdspr", {})):
        cfg = load_config(model_config(tmp_path, {"preset": preset, **dims, **extra}))
        assert cfg["model"]["preset"] == preset
        model = TwoTower(cfg["model"])
        with torch.no_grad():
            q = model.query.encode([[1, 2, 3], [4]] if preset == "dpsr" else [[1, 0, 5, 7, 9], [0, 0, 4]])
        shapes.append((preset, tuple(model.query.w1.shape), tuple(q.shape)))
    # dpsr: 3 unit heads of D = 3 on the E = 4 bag; mgdspr: one embedding from the 4E = 16 wide multi-granular input.
    assert shapes == [("dpsr", (4, 6), (2, 3, 3)), ("mgdspr", (16, 6), (2, 3))]
