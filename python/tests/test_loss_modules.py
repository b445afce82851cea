"""The loss modules (retrieval_lens.losses.AdaptiveSoftmaxLoss, …) on the shared parity fixtures: the same loss,
loss parts, δ/τ and gradients as the TypeScript host loss (expected.json) within 1e-5, with the fixtures'
explicit negatives passed as [B, K, D] (rows with fewer negatives padded by an accidental hit: a copy of their
own positive under its id, which the id masking must leave out)."""

from typing import Any, Dict, List, Tuple

import numpy as np
import pytest
import torch

from parity_fixtures import EXPECTED, INPUTS
from retrieval_lens.losses import AdapTauSoftmaxLoss, AdaptiveMarginLoss, AdaptiveSoftmaxLoss, LossConfig, MarginLoss, RetrievalLoss, SoftmaxLoss

TOL = 1e-5
CASES = [(b, v) for b in INPUTS["batches"] for v in INPUTS["variants"]]


def module_inputs(b: Dict[str, Any]) -> Tuple[Dict[str, Any], List[Tuple[int, int, int]]]:
    """The fixture batch as module inputs; slots[(k)] = (fixture row, pair j, slot) of each explicit negative."""
    B = b["B"]
    items = torch.tensor(b["items"], dtype=torch.float64)
    per_row: List[List[int]] = [[] for _ in range(B)]
    for k, owner in enumerate(b["owners"]):
        per_row[owner].append(B + k)
    K = max(len(r) for r in per_row)
    inputs: Dict[str, Any] = {
        "query": torch.tensor(b["q"], dtype=torch.float64, requires_grad=True),
        "positive": items[:B].clone().requires_grad_(True),
        "ids": b["ids"][:B],
    }
    slots = []
    if K > 0:
        negs = torch.zeros(B, K, b["D"], dtype=torch.float64)
        neg_ids = []
        for j, rows in enumerate(per_row):
            row_ids = []
            for s in range(K):
                if s < len(rows):
                    negs[j, s] = items[rows[s]]
                    row_ids.append(b["ids"][rows[s]])
                    slots.append((rows[s], j, s))
                else:  # padding: the pair's own positive, an accidental hit
                    negs[j, s] = items[j]
                    row_ids.append(b["ids"][j])
            neg_ids.append(row_ids)
        inputs["negatives"] = negs.requires_grad_(True)
        inputs["negative_ids"] = neg_ids
    return inputs, slots


def module_for(loss: Dict[str, Any]) -> RetrievalLoss:
    """The named module class with the variant's options (normalize off: the fixtures are unit vectors already)."""
    c = LossConfig.from_config(loss)
    common = {"symmetric": c.symmetric, "symmetric_weight": c.symmetricWeight, "normalize": False}
    if c.type == "softmax" and c.temperatureRule == "adap-tau":
        return AdapTauSoftmaxLoss(tau0=c.tau0, adap_tau_scale=c.adapTauScale, **common)
    if c.type == "softmax" and c.adaptive:
        return AdaptiveSoftmaxLoss(alpha=c.alpha, tau0=c.tau0, stop_gradient=c.stopGradient, **common)
    if c.type == "margin" and c.adaptive:
        return AdaptiveMarginLoss(alpha=c.alpha, delta0=c.delta0, stop_gradient=c.stopGradient, **common)
    if c.type == "softmax":
        return SoftmaxLoss(temperature=c.temperature, **common)
    return MarginLoss(margin=c.margin, **common)


@pytest.mark.parametrize("batch,variant", CASES, ids=[f"{b['name']}: {v['name']}" for b, v in CASES])
def test_each_loss_module_gives_the_typescript_loss_and_gradients(batch, variant):
    exp = EXPECTED["losses"][batch["name"]][variant["name"]]
    inputs, slots = module_inputs(batch)
    out = module_for(variant["loss"])(**inputs)
    out.loss.backward()
    B = batch["B"]
    assert abs(float(out.loss) - exp["loss"]) <= TOL and abs(float(out.loss_q) - exp["lossQ"]) <= TOL and abs(float(out.loss_sym) - exp["lossSym"]) <= TOL
    np.testing.assert_allclose(inputs["query"].grad.numpy(), np.array(exp["dq"]), atol=TOL, rtol=0)
    d_items = np.array(exp["dItems"])
    np.testing.assert_allclose(inputs["positive"].grad.numpy(), d_items[:B], atol=TOL, rtol=0)
    hyper = np.array(exp["hyper"])
    np.testing.assert_allclose(out.hyper[:, :B].numpy(), hyper[:, :B], atol=TOL, rtol=0)
    K = inputs["negatives"].shape[1] if "negatives" in inputs else 0
    for row, j, s in slots:
        np.testing.assert_allclose(inputs["negatives"].grad[j, s].numpy(), d_items[row], atol=TOL, rtol=0)
        np.testing.assert_allclose(out.hyper[:, B + j * K + s].numpy(), hyper[:, row], atol=TOL, rtol=0)
    assert np.abs(d_items).max() > 1e-3  # the comparison can fail


def random_batch(B: int = 6, D: int = 8, M: int = 3, seed: int = 0) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(B, D, generator=g, dtype=torch.float64), torch.randn(B, D, generator=g, dtype=torch.float64), torch.randn(M, D, generator=g, dtype=torch.float64)


def test_shared_negatives_equal_the_same_negatives_given_to_every_pair():
    q, v, shared = random_batch()
    loss = AdaptiveSoftmaxLoss(tau0=0.1)
    a = loss(q, v, shared, ids=["a", "b", "c", "a", "d", "e"], negative_ids=["x", "b", "y"])
    each = shared[None].expand(q.shape[0], -1, -1)
    b = loss(q, v, each, ids=["a", "b", "c", "a", "d", "e"], negative_ids=[["x", "b", "y"]] * q.shape[0])
    assert abs(float(a.loss) - float(b.loss)) <= 1e-12 and abs(float(a.loss_sym) - float(b.loss_sym)) <= 1e-12
    # pair 1's positive is "b": the shared negative "b" is not its negative, every other pair keeps all three
    assert a.neg_mask[1, 6:].tolist() == [True, False, True] and a.neg_mask[0, 6:].tolist() == [True, True, True]
    assert not a.neg_mask[0, 3] and not a.neg_mask[3, 0]  # rows 0 and 3 are the same item


def test_ids_as_a_tensor_mask_like_ids_as_a_list_and_no_ids_means_distinct_items():
    q, v, _ = random_batch()
    loss = AdaptiveMarginLoss()
    listed = loss(q, v, ids=[1, 2, 3, 1, 4, 5])
    tensor = loss(q, v, ids=torch.tensor([1, 2, 3, 1, 4, 5]))
    assert torch.equal(listed.neg_mask, tensor.neg_mask) and float(listed.loss) == float(tensor.loss)
    distinct = loss(q, v)
    assert distinct.neg_mask.sum() == 6 * 5 and listed.neg_mask.sum() == 6 * 5 - 2


def test_inputs_are_normalised_unless_told_not_to():
    q, v, n = random_batch()
    loss = AdaptiveSoftmaxLoss()
    assert abs(float(loss(q, v, n).loss) - float(loss(3 * q, 0.5 * v, 7 * n).loss)) <= 1e-9
    raw = AdaptiveSoftmaxLoss(normalize=False)
    assert abs(float(raw(q, v).loss) - float(raw(3 * q, v).loss)) > 1e-3


@pytest.mark.parametrize(
    "shapes,message",
    [
        (((6, 8), (5, 8), None), r"query and positive must both be \[B, D\]; got query \[6, 8\], positive \[5, 8\]"),
        (((6, 8), (6, 8), (6, 2, 7)), r"negatives must be \[B, K, D\] = \[6, K, 8\] or \[M, 8\]; got \[6, 2, 7\]"),
        (((6, 8), (6, 8), (4, 2, 8)), r"got \[4, 2, 8\]"),
    ],
)
def test_a_shape_mismatch_is_named(shapes, message):
    q, v, n = (None if s is None else torch.randn(*s) for s in shapes)
    with pytest.raises(ValueError, match=message):
        SoftmaxLoss()(q, v, n)


def test_ids_of_the_wrong_length_are_named():
    q, v, n = random_batch()
    with pytest.raises(ValueError, match="ids: expected 6 ids, got 5"):
        MarginLoss()(q, v, ids=[1, 2, 3, 4, 5])
    with pytest.raises(ValueError, match="negative_ids: expected 3 ids, got 2"):
        MarginLoss()(q, v, n, negative_ids=["x", "y"])


def test_gathered_across_two_ranks_the_module_gives_the_gradients_of_one_process_on_the_whole_batch(tmp_path):
    """2 gloo ranks (real processes): the DDP-averaged encoder gradients and the mean of the ranks' losses equal
    one process's on the whole batch, including a cross-rank accidental hit."""
    from conftest import PYTHON_DIR, finish, launch
    from ddp_module_case import B, encoder, step

    out = tmp_path / "grads.pt"
    code, _, err = finish(launch(["--nproc_per_node", "2", f"{PYTHON_DIR}/tests/ddp_module_case.py", str(out)]), 300)
    assert code == 0, err[-3000:]
    ddp = torch.load(out)
    loss, grads = step(encoder(), slice(0, B), False)
    assert abs(ddp["loss"] - loss) <= 1e-5 * max(1, abs(loss)), (ddp["loss"], loss)
    for name, g in grads.items():
        assert float(g.abs().max()) > 0, name
        torch.testing.assert_close(ddp["grads"][name], g, atol=1e-6, rtol=1e-4)  # pyright: ignore[reportPrivateImportUsage]
    # without the gather each rank sees only its own half: the gradients differ (the test can fail)
    half_loss, _ = step(encoder(), slice(0, B // 2), False)
    assert abs(half_loss - loss) > 1e-3
