"""DDP under torchrun (2 gloo ranks on CPU, real processes): the all-gathered in-batch negatives give the
gradients of one process training on the whole batch."""

import os

import torch

from conftest import PYTHON_DIR, finish, launch
from ddp_gradient_case import EXAMPLES, MODEL, step_gradients
from retrieval_lens.model import TwoTower
from retrieval_lens.train import Dist


def test_two_ranks_give_the_gradients_of_one_process_on_the_whole_batch(tmp_path):
    out = tmp_path / "grads.pt"
    code, _, err = finish(launch(["--nproc_per_node", "2", os.path.join(PYTHON_DIR, "tests", "ddp_gradient_case.py"), str(out)]), 300)
    assert code == 0, err[-3000:]
    ddp = torch.load(out)
    torch.manual_seed(0)
    model = TwoTower(MODEL, sparse=True)
    loss, grads = step_gradients(Dist(), EXAMPLES, model, model)
    assert abs(ddp["loss"] - loss) <= 1e-5 * max(1, abs(loss)), (ddp["loss"], loss)
    assert set(grads) == set(ddp["grads"])
    for name, g in grads.items():
        assert float(g.abs().max()) > 0, name
        torch.testing.assert_close(ddp["grads"][name], g, atol=1e-6, rtol=1e-4, msg=lambda m, name=name: f"{name}: {m}")  # pyright: ignore[reportPrivateImportUsage]
