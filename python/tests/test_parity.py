"""PyTorch ↔ TypeScript parity on the shared fixtures (test/fixtures/parity/, expected values written by the
TypeScript code through generate.ts; test/unit/parity.test.ts checks that the TypeScript code still gives them).
Loss values and gradients within 1e-5 for every loss variant, byte-equal feature ids, the same step
diagnostics, the same collapse verdicts and the same quality verdicts (to the character of their reasons)."""

import math

import numpy as np
import pytest
import torch

from parity_fixtures import EXPECTED, INPUTS
from retrieval_lens.diagnostics import hyper_range, step_diagnostics
from retrieval_lens.features import FeaturizeOptions, featurize
from retrieval_lens.losses import LossConfig, retrieval_loss
from retrieval_lens.quality import quality_verdict
from retrieval_lens.verdict import CollapseMonitor, LearnedBoundWatch

TOL = 1e-5
CASES = [(b, v) for b in INPUTS["batches"] for v in INPUTS["variants"]]


def neg_mask(b) -> torch.Tensor:
    B, N, ids, owners = b["B"], b["N"], b["ids"], b["owners"]
    m = torch.zeros(B, N, dtype=torch.bool)
    for j in range(B):
        for i in range(B):
            m[j, i] = i != j and ids[i] != ids[j]
        for i in range(B, N):
            m[j, i] = owners[i - B] == j and ids[i] != ids[j]
    return m


def torch_loss(b, variant):
    out, dq, ditems, _ = torch_loss_learned(b, variant)
    return out, dq, ditems


def torch_loss_learned(b, variant):
    q = torch.tensor(b["q"], dtype=torch.float64, requires_grad=True)
    items = torch.tensor(b["items"], dtype=torch.float64, requires_grad=True)
    cfg = LossConfig.from_config(variant["loss"])
    # α, δ₀, τ₀ as leaf tensors: autograd gives ∂L/∂α, ∂L/∂δ₀, ∂L/∂τ₀ (learned hyper-parameters), 0 where unused.
    learned = {n: torch.tensor(float(getattr(cfg, n)), dtype=torch.float64, requires_grad=True) for n in ("alpha", "delta0", "tau0")}
    out = retrieval_loss(q, items, neg_mask(b), cfg, learned=learned)
    out.loss.backward()
    assert q.grad is not None and items.grad is not None
    d_learned = {n: float(x.grad) if x.grad is not None else 0.0 for n, x in learned.items()}
    return out, q.grad.numpy(), items.grad.numpy(), d_learned


def max_diffs(b, variant):
    exp = EXPECTED["losses"][b["name"]][variant["name"]]
    out, dq, ditems, d_learned = torch_loss_learned(b, variant)
    return {
        "loss": max(abs(float(out.loss) - exp["loss"]), abs(float(out.loss_q) - exp["lossQ"]), abs(float(out.loss_sym) - exp["lossSym"])),
        "dq": float(np.abs(dq - np.array(exp["dq"])).max()),
        "dItems": float(np.abs(ditems - np.array(exp["dItems"])).max()),
        "hyper": float(np.abs(out.hyper.numpy() - np.array(exp["hyper"])).max()),
        "dLearned": max(abs(d_learned[n] - exp["dLearned"][n]) for n in d_learned),
    }


@pytest.mark.parametrize("batch,variant", CASES, ids=[f"{b['name']}: {v['name']}" for b, v in CASES])
def test_loss_and_gradients_match_the_typescript_host_loss(batch, variant):
    d = max_diffs(batch, variant)
    assert d["loss"] <= TOL and d["dq"] <= TOL and d["dItems"] <= TOL and d["hyper"] <= TOL and d["dLearned"] <= TOL, d
    # the gradients are not trivially zero (the comparison can fail)
    exp = EXPECTED["losses"][batch["name"]][variant["name"]]
    assert np.abs(np.array(exp["dItems"])).max() > 1e-3


def test_parity_table(capsys):
    """Prints the max |PyTorch − TypeScript| per variant over all fixture batches (README numbers)."""
    rows = []
    for v in INPUTS["variants"]:
        worst = {"loss": 0.0, "dq": 0.0, "dItems": 0.0, "dLearned": 0.0}
        for b in INPUTS["batches"]:
            d = max_diffs(b, v)
            for k in worst:
                worst[k] = max(worst[k], d[k])
        rows.append((v["name"], worst))
        assert max(worst.values()) <= TOL
    with capsys.disabled():
        print("\nmax |PyTorch − TypeScript| over the fixture batches: loss (L, lossQ, lossSym) · ∂L/∂q · ∂L/∂items · ∂L/∂(α, δ₀, τ₀)")
        for name, w in rows:
            print(f"  {name:55s} {w['loss']:.1e} · {w['dq']:.1e} · {w['dItems']:.1e} · {w['dLearned']:.1e}")


def test_rows_without_negatives_are_left_out_of_the_mean():
    b = next(x for x in INPUTS["batches"] if x["name"] == "sparse")
    out, _, _ = torch_loss(b, INPUTS["variants"][0])
    assert out.rows_with_negatives == 1


@pytest.mark.parametrize("where", ["s_qv at a valid negative", "positive"])
def test_a_non_finite_used_score_makes_every_variant_nan(where):
    b = next(x for x in INPUTS["batches"] if x["name"] == "main")
    for v in INPUTS["variants"]:
        q = torch.tensor(b["q"], dtype=torch.float64)
        items = torch.tensor(b["items"], dtype=torch.float64)
        if where == "positive":
            q[1, 0] = float("nan")
        else:
            items[4, 2] = float("inf")
        out = retrieval_loss(q, items, neg_mask(b), LossConfig.from_config(v["loss"]))
        assert not math.isfinite(float(out.loss)), v["name"]


def test_the_same_text_gives_the_same_feature_ids():
    for o, expected in zip(INPUTS["featureOptions"], EXPECTED["features"], strict=True):
        opts = FeaturizeOptions(o["buckets"], o["maxTokens"], o["charTrigrams"])
        for text, ids in zip(INPUTS["texts"], expected, strict=True):
            assert featurize(text, opts) == ids, text


def close(a, b, path=""):
    """Recursive comparison: numbers within 1e-5 (relative for large values), everything else equal."""
    if isinstance(b, dict):
        assert isinstance(a, dict) and set(a) == set(b), f"{path}: keys {sorted(a) if isinstance(a, dict) else a} vs {sorted(b)}"
        for k in b:
            close(a[k], b[k], f"{path}.{k}")
    elif isinstance(b, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            close(x, y, f"{path}[{i}]")
    elif isinstance(b, (int, float)) and not isinstance(b, bool) and b is not None:
        assert a is not None and abs(a - b) <= TOL * max(1, abs(b)), f"{path}: {a} vs {b}"
    else:
        assert a == b, f"{path}: {a!r} vs {b!r}"


@pytest.mark.parametrize("batch,variant", CASES, ids=[f"{b['name']}: {v['name']}" for b, v in CASES])
def test_the_same_step_tensors_give_the_same_diagnostics(batch, variant):
    out, _, _ = torch_loss(batch, variant)
    q = torch.tensor(batch["q"], dtype=torch.float32)
    items = torch.tensor(batch["items"], dtype=torch.float32)
    B = batch["B"]
    kind, rng = hyper_range(variant["loss"])
    diag = step_diagnostics(q @ items.T, items[:B] @ items.T, neg_mask(batch).float(), out.hyper, kind, rng, items[:B], True)
    close(diag, EXPECTED["diagnostics"][f"{batch['name']} / {variant['name']}"], "diagnostics")


@pytest.mark.parametrize("case", INPUTS["verdictCases"], ids=[c["name"] for c in INPUTS["verdictCases"]])
def test_the_same_indicators_give_the_same_collapse_verdicts(case):
    m = CollapseMonitor(case["thresholds"], total_steps=case["totalSteps"])
    got = []
    for p in case["steps"]:
        diag = {"collapse": {"ratio": p["ratio"], "itemCosine": p["itemCosine"], "violationRate": p["violationRate"], "effectiveRank": p["effectiveRank"]}}
        got.append(m.update(diag, p["step"]))
    assert got == EXPECTED["verdicts"][case["name"]]


@pytest.mark.parametrize("case", INPUTS["qualityCases"], ids=[c["name"] for c in INPUTS["qualityCases"]])
def test_the_same_held_out_recalls_give_the_same_quality_verdicts(case):
    h = case["heldOut"]
    got = [quality_verdict(h[: i + 1], case["bm25"], case["inBatch"][i]) for i in range(len(h))]
    assert got == EXPECTED["quality"][case["name"]]


@pytest.mark.parametrize("case", INPUTS["learnedCases"], ids=[c["name"] for c in INPUTS["learnedCases"]])
def test_the_same_learned_values_give_the_same_warnings(case):
    watch = LearnedBoundWatch()
    assert [watch.update(p["values"], p["step"]) for p in case["steps"]] == EXPECTED["learned"][case["name"]]
