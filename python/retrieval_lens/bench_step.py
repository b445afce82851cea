"""Times the PyTorch trainer's own step (retrieval_lens.train: distributed_loss, backward, Adam) on random
feature ids, alone or under `python -m retrieval_lens.launch --nproc_per_node N` (the all-gathered batch).
Prints one JSON line from rank 0 (what `npm run bench:train` reads):
  {"world", "batchPerRank", "effectiveBatch", "device", "msPerStep": [...], "median", "peakRssMb"}
("median" of msPerStep; "peakRssMb": rank 0's peak resident set, MiB).

  python -m retrieval_lens.bench_step [--batch 350] [--steps 10] [--warmup 2] [--vocab 262144] [--zipf]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import time
from typing import Callable, List, Optional

import torch

from .losses import BatchLossOutput, LossConfig
from .model import TwoTower
from .train import Dist, Optimizer, backward, distributed_loss


def parse(argv: Optional[List[str]] = None, prog: str = "python -m retrieval_lens.bench_step") -> argparse.Namespace:
    p = argparse.ArgumentParser(prog=prog)
    p.add_argument("--batch", type=int, default=350)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--vocab", type=int, default=262144)
    p.add_argument("--embed", type=int, default=128)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--out-dim", type=int, default=128)
    p.add_argument("--query-tokens", type=int, default=30)
    p.add_argument("--item-tokens", type=int, default=100)
    p.add_argument("--zipf", action="store_true", help="Zipf-distributed feature ids (like real text) instead of uniform")
    return p.parse_args(argv)


def paper_step(a: argparse.Namespace, dd: Dist) -> Callable[[int], BatchLossOutput]:
    """One training step of the trainer (forward, loss, backward, Adam) at the shape `a` on random feature ids."""
    torch.manual_seed(42)
    model = TwoTower({"vocabBuckets": a.vocab, "embeddingDim": a.embed, "hiddenDim": a.hidden, "outputDim": a.out_dim, "sharedTowers": False}, sparse=dd.device.type == "cpu").to(dd.device)
    net: torch.nn.Module = model
    if dd.world > 1:
        from torch.nn.parallel import DistributedDataParallel

        net = DistributedDataParallel(model, device_ids=[dd.local_rank] if dd.device.type == "cuda" else None)
    opt = Optimizer(model, 5e-5)
    loss_cfg = LossConfig()  # the paper's setting: adaptive softmax + symmetric term
    g = torch.Generator().manual_seed(1000 + dd.rank)
    zipf = 1 / torch.arange(1, a.vocab + 1, dtype=torch.float64)

    def ids(n: int, length: int) -> List[List[int]]:
        if a.zipf:
            return torch.multinomial(zipf, n * length, replacement=True, generator=g).view(n, length).tolist()
        return torch.randint(a.vocab, (n, length), generator=g).tolist()

    def step(k: int) -> BatchLossOutput:
        q_feats, v_feats = ids(a.batch, a.query_tokens), ids(a.batch, a.item_tokens)
        pos_ids = [f"r{dd.rank}-{k}-{j}" for j in range(a.batch)]
        out = distributed_loss(dd, net, loss_cfg, q_feats, v_feats, pos_ids, [], [], [])
        backward(dd, model, opt, out)
        opt.step()
        if dd.device.type == "cuda":
            torch.cuda.synchronize(dd.device)
        return out

    return step


def main() -> None:
    a = parse()
    dd = Dist()
    step = paper_step(a, dd)
    times = []
    for k in range(a.warmup + a.steps):
        t0 = time.perf_counter()
        step(k)
        if k >= a.warmup:
            times.append((time.perf_counter() - t0) * 1000)
    if dd.rank == 0:
        print(json.dumps({"world": dd.world, "batchPerRank": a.batch, "effectiveBatch": a.batch * dd.world, "device": dd.device.type, "msPerStep": [round(t, 1) for t in times], "median": round(statistics.median(times), 1), "peakRssMb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}), flush=True)
    dd.close()


if __name__ == "__main__":
    main()
