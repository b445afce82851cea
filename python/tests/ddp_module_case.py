"""A loss module with gather_across_ranks=True in a hand-written DDP step: run under
`python -m retrieval_lens.launch --nproc_per_node 2` it writes rank 0's DDP-averaged gradients of a small
linear encoder to argv[1]; test_loss_modules_ddp.py compares them with one process on the whole batch."""

import sys
from typing import Dict, List, Tuple

import torch
import torch.distributed as dist

from retrieval_lens.losses import AdaptiveSoftmaxLoss

B, D = 8, 6
# pair 5's positive is the same item as pair 1's (a cross-rank accidental hit with 2 ranks of 4)
IDS = ["p0", "p1", "p2", "p3", "p4", "p1", "p6", "p7"]


def batch() -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(3)
    xq, xv, xn = torch.randn(B, D, generator=g), torch.randn(B, D, generator=g), torch.randn(B, 2, D, generator=g)
    xv[5] = xv[1]
    return xq, xv, xn


def encoder() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Linear(D, D)


def step(net: torch.nn.Module, rows: slice, gather: bool) -> Tuple[float, Dict[str, torch.Tensor]]:
    xq, xv, xn = batch()
    loss_fn = AdaptiveSoftmaxLoss(tau0=0.1, symmetric_weight=0.3, gather_across_ranks=gather)
    neg_ids: List[List[str]] = [[f"n{j}a", f"n{j}b"] for j in range(B)]
    out = loss_fn(net(xq[rows]), net(xv[rows]), net(xn[rows]), ids=IDS[rows], negative_ids=neg_ids[rows])
    out.loss.backward()
    module = net.module if hasattr(net, "module") else net
    assert isinstance(module, torch.nn.Module)
    return float(out.loss), {n: p.grad.detach().clone() for n, p in module.named_parameters() if p.grad is not None}


def main() -> None:
    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    from torch.nn.parallel import DistributedDataParallel

    net = DistributedDataParallel(encoder())
    half = B // world
    loss, grads = step(net, slice(rank * half, (rank + 1) * half), True)
    total = torch.tensor([loss / world])
    dist.all_reduce(total)
    if rank == 0:
        torch.save({"loss": float(total), "grads": grads}, sys.argv[1])
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
