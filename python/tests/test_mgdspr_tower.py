"""The MGDSPR query tower (model.preset "mgdspr", retrieval_lens/towers/mgdspr.py) against the built-in trainer on the
shared fixture test/fixtures/parity/mgdspr.json (written by test/fixtures/parity/mgdsprSide.ts from the TypeScript
trainer's hand-written backward): byte-equal packed query features, and the loss and every gradient (dense weights of
both towers, the touched table rows) from PyTorch autograd in float64 within 1e-5 (relative above 1)."""

import json
import os

import numpy as np
import pytest
import torch

from conftest import REPO, model_config
from retrieval_lens.config import ConfigError, load_config
from retrieval_lens.features import featurize, featurize_options
from retrieval_lens.losses import LossConfig, retrieval_loss
from retrieval_lens.model import TwoTower, load_checkpoint, save_checkpoint
from retrieval_lens.towers import query_featurizer

with open(os.path.join(REPO, "test", "fixtures", "parity", "mgdspr.json"), encoding="utf-8") as f:
    FIX = json.load(f)
TOL = 1e-5
KEYS = {"w1": "w1", "b1": "b1", "w2": "w2", "b2": "b2"}


def close(actual, expected, what):
    a, e = np.asarray(actual, dtype=np.float64).ravel(), np.asarray(expected, dtype=np.float64).ravel()
    assert a.shape == e.shape, what
    err = np.abs(a - e) / np.maximum(1.0, np.abs(e))
    assert err.max(initial=0.0) <= TOL, f"{what}: max error {err.max()} at {int(err.argmax())}"
    return float(err.max(initial=0.0))


def fixture_model() -> TwoTower:
    model = TwoTower(FIX["model"]).double()
    with torch.no_grad():
        for t in ("query", "item"):
            tower = getattr(model, t)
            tower.embedding.weight.copy_(torch.tensor(FIX["weights"][f"{t}/embedding"]).reshape(tower.embedding.weight.shape))
            for k in KEYS:
                p = getattr(tower, k)
                p.copy_(torch.tensor(FIX["weights"][f"{t}/{k}"]).reshape(p.shape))
    return model


def test_packed_query_features_are_byte_equal():
    q = query_featurizer(FIX["model"])
    assert [q(t) for t in FIX["queries"]] == FIX["queryFeats"]
    opts = featurize_options(FIX["model"], "item")
    assert [featurize(t, opts) for t in FIX["items"]] == FIX["itemFeats"]


@pytest.mark.parametrize("variant", FIX["variants"], ids=[v["name"] for v in FIX["variants"]])
def test_loss_and_gradients_match_the_hand_written_backward(variant):
    model = fixture_model()
    q, items = model(FIX["queryFeats"], FIX["itemFeats"])
    B, N = len(FIX["queryFeats"]), len(FIX["itemFeats"])
    mask = torch.tensor(FIX["negMask"]).reshape(B, N) > 0
    out = retrieval_loss(q, items, mask, LossConfig.from_config(variant["loss"]))
    out.loss.backward()
    exp = variant["expected"]
    close([float(out.loss)], [exp["loss"]], "loss")
    for t in ("query", "item"):
        tower = getattr(model, t)
        for k in KEYS:
            close(getattr(tower, k).grad.numpy(), exp["dense"][f"{t}/{k}"], f"{t}/{k}")
        g = tower.embedding.weight.grad.to_dense().numpy()
        rows = exp["rows"][t]["rows"]
        close(g[rows], exp["rows"][t]["grads"], f"{t}/embedding rows")
        untouched = np.setdiff1d(np.arange(g.shape[0]), rows)
        assert np.abs(g[untouched]).max(initial=0.0) == 0.0


def test_checkpoint_records_the_preset_and_reads_back(tmp_path):
    model = fixture_model().float()
    save_checkpoint(str(tmp_path), model, 3)
    doc = json.loads((tmp_path / "model.json").read_text())
    assert doc["checkpoint"]["model"]["preset"] == "mgdspr"
    spec = {w["name"]: w["shape"] for w in doc["weightsManifest"][0]["weights"]}
    assert spec["query/dense1/kernel"] == [16, 6] and spec["item/dense1/kernel"] == [4, 6]
    again, _ = load_checkpoint(str(tmp_path))
    with torch.no_grad():
        a = model.query.encode(FIX["queryFeats"])
        b = again.query.encode(FIX["queryFeats"])
    assert torch.equal(a, b)


def test_config_refuses_shared_mgdspr_towers(tmp_path):
    with pytest.raises(ConfigError, match=r"\$\.model\.sharedTowers: the \"mgdspr\" query tower has its own input layer"):
        load_config(model_config(tmp_path, {"preset": "mgdspr", "sharedTowers": True}))
    assert load_config(model_config(tmp_path, {"preset": "mgdspr"}))["model"]["preset"] == "mgdspr"
    assert load_config(model_config(tmp_path, {}))["model"]["preset"] == "dssm"
