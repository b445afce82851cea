#!/usr/bin/env python3
"""The training step of bench/train.bench.ts in PyTorch on CPU, for comparison.

Same model and step at the paper's shape: per tower a mean EmbeddingBag (V 2^18, E 128, sparse
gradients), Linear(E, 256) -> ReLU -> Linear(256, 128) -> L2 normalisation x / sqrt(|x|^2 + 1e-12);
adaptive softmax loss with tau_ji = tau0 * (1 + alpha * (1 - sg[s(v_j, v_i)])) for the query-anchored
term and the symmetric term (anchor v_j, positive q_j, negatives s(v_j, v_i), tau from sg[s(q_j, v_i)])
with weight 0.05, in-batch negatives (i != j); SparseAdam for the tables, Adam for the dense layers
(lr 5e-5, eps 1e-7 as the TypeScript trainer). Feature ids: uniform over the buckets, or Zipf(s 1) over
2^20 features hashed into the buckets (--ids zipf), as the TypeScript bench.

Prints one JSON line: {"msPerStep", "threads", "peakRssGB", "torch", "distinctRows", "ids"}.
    python3 bench/torch_step.py [--steps 30] [--threads N] [--ids uniform|zipf]
Needs torch (Debian: apt-get install python3-torch, for /usr/bin/python3).
"""
import argparse
import json
import os
import resource
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F

B, LQ, LI, V, E, H, D = 350, 30, 100, 1 << 18, 128, 256, 128
TAU0, ALPHA, SYM_WEIGHT, LR, EPS = 1 / 30, 0.5, 0.05, 5e-5, 1e-7
ZIPF_FEATURES, ZIPF_S = 1 << 20, 1.0


class Tower(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.bag = torch.nn.EmbeddingBag(V, E, mode="mean", sparse=True)
        torch.nn.init.uniform_(self.bag.weight, -0.05, 0.05)
        self.dense1 = torch.nn.Linear(E, H)
        self.dense2 = torch.nn.Linear(H, D)

    def forward(self, ids, offsets):
        y = self.dense2(F.relu(self.dense1(self.bag(ids, offsets))))
        return y / torch.sqrt((y * y).sum(1, keepdim=True) + 1e-12)


def softmax_term(pos, neg, ref, mask):
    """mean_j log(1 + sum_{i in N(j)} exp((neg_ji - pos_j) / tau_ji)), tau_ji = tau0 (1 + alpha (1 - sg[ref_ji]))."""
    tau = TAU0 * (1 + ALPHA * (1 - ref.detach()))
    z = (neg - pos[:, None]) / tau
    z = z.masked_fill(~mask, -1e9)
    zero = torch.zeros(z.shape[0], 1, dtype=z.dtype)
    return torch.logsumexp(torch.cat([zero, z], 1), 1).mean()


def loss_fn(q, v):
    s_qv = q @ v.T
    s_vv = v @ v.T
    pos = (q * v).sum(1)
    mask = ~torch.eye(q.shape[0], dtype=torch.bool)
    return softmax_term(pos, s_qv, s_vv, mask) + SYM_WEIGHT * softmax_term(pos, s_vv, s_qv, mask)


def sampler(kind, rng):
    if kind == "uniform":
        return lambda n: rng.integers(0, V, n)
    cdf = np.cumsum(1.0 / np.power(np.arange(1, ZIPF_FEATURES + 1, dtype=np.float64), ZIPF_S))
    bucket = rng.integers(0, V, ZIPF_FEATURES)
    return lambda n: bucket[np.searchsorted(cdf, rng.random(n) * cdf[-1])]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--ids", choices=["uniform", "zipf"], default="uniform")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    rng = np.random.default_rng(7)
    draw = sampler(args.ids, rng)
    n_examples = B * 8
    query_ids = torch.from_numpy(draw(n_examples * LQ).astype(np.int64)).view(n_examples, LQ)
    item_ids = torch.from_numpy(draw(n_examples * LI).astype(np.int64)).view(n_examples, LI)

    towers = [Tower(), Tower()]
    sparse_params = [t.bag.weight for t in towers]
    dense_params = [p for t in towers for n, p in t.named_parameters() if not n.startswith("bag.")]
    opt_sparse = torch.optim.SparseAdam(sparse_params, lr=LR, eps=EPS)
    opt_dense = torch.optim.Adam(dense_params, lr=LR, eps=EPS)
    q_offsets = torch.arange(0, B * LQ, LQ)
    i_offsets = torch.arange(0, B * LI, LI)

    times, distinct = [], []
    warmup = 3
    for step in range(args.steps + warmup):
        rows = torch.arange(step * B, step * B + B) % n_examples
        qi, ii = query_ids[rows].reshape(-1), item_ids[rows].reshape(-1)
        t0 = time.perf_counter()
        opt_sparse.zero_grad()
        opt_dense.zero_grad()
        loss = loss_fn(towers[0](qi, q_offsets), towers[1](ii, i_offsets))
        loss.backward()
        opt_sparse.step()
        opt_dense.step()
        float(loss)
        dt = time.perf_counter() - t0
        if step >= warmup:
            times.append(dt * 1000)
            distinct.append(len(torch.unique(qi)) + len(torch.unique(ii)))
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # ru_maxrss is in KiB on Linux
    print(json.dumps({
        "msPerStep": statistics.median(times), "threads": torch.get_num_threads(), "peakRssGB": peak_gb,
        "torch": torch.__version__, "distinctRows": int(statistics.median(distinct)), "ids": args.ids,
    }))


if __name__ == "__main__":
    main()
