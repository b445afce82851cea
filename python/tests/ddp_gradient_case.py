"""A small batch trained one step with the trainer's distributed loss (retrieval_lens.train.distributed_loss):
run under `python -m retrieval_lens.launch --nproc_per_node 2` it writes the DDP-averaged gradients of
rank 0 to argv[1]; test_ddp.py compares them with one process on the whole batch."""

import sys

import torch

from retrieval_lens.features import featurize, featurize_options
from retrieval_lens.losses import LossConfig
from retrieval_lens.model import TwoTower
from retrieval_lens.train import Dist, distributed_loss

MODEL = {"vocabBuckets": 512, "embeddingDim": 8, "hiddenDim": 16, "outputDim": 8, "maxQueryTokens": 30, "maxItemTokens": 100, "charTrigrams": True, "sharedTowers": False}
# (query, positive id, positive text, [(negative id, negative text)]); "p2" is in both halves (a cross-rank accidental hit).
EXAMPLES = [
    ("red phone case", "p1", "Red silicone phone case", [("n1", "Blue silicone phone case")]),
    ("usb c cable 2m", "p2", "USB-C cable 2 m braided", []),
    ("wireless mouse", "p3", "Wireless optical mouse grey", [("n3", "Wired optical mouse grey"), ("n4", "Wireless keyboard")]),
    ("coffee grinder", "p4", "Burr coffee grinder steel", []),
    ("braided usb-c cable", "p2", "USB-C cable 2 m braided", []),
    ("running shoes 42", "p6", "Trail running shoes size 42", [("n6", "Trail running shoes size 43")]),
    ("desk lamp led", "p7", "LED desk lamp dimmable", []),
    ("yoga mat", "p8", "Yoga mat 6 mm purple", [("n8", "Yoga block purple")]),
]
LOSS = LossConfig(type="softmax", adaptive=True, tau0=0.1, alpha=0.5, stopGradient=True, symmetric=True, symmetricWeight=0.3)


def step_gradients(dd: Dist, examples, net, model):
    qo, io = featurize_options(MODEL, "query"), featurize_options(MODEL, "item")
    neg_feats, neg_ids, owners = [], [], []
    for j, ex in enumerate(examples):
        for nid, text in ex[3]:
            neg_feats.append(featurize(text, io))
            neg_ids.append(nid)
            owners.append(j)
    out = distributed_loss(
        dd, net, LOSS, [featurize(e[0], qo) for e in examples], [featurize(e[2], io) for e in examples], [e[1] for e in examples], neg_feats, neg_ids, owners
    )
    (out.loss * dd.world).backward()
    loss = dd.sum([float(out.loss)])[0]
    return loss, {n: (p.grad.to_dense() if p.grad.is_sparse else p.grad).detach().clone() for n, p in model.named_parameters()}


def main() -> None:
    dd = Dist()
    torch.manual_seed(0)
    model = TwoTower(MODEL, sparse=True)  # as the trainer on CPU: sparse table gradients
    from torch.nn.parallel import DistributedDataParallel

    net = DistributedDataParallel(model)
    half = len(EXAMPLES) // dd.world
    loss, grads = step_gradients(dd, EXAMPLES[dd.rank * half : (dd.rank + 1) * half], net, model)
    if dd.rank == 0:
        torch.save({"loss": loss, "grads": grads}, sys.argv[1])
    dd.close()


if __name__ == "__main__":
    main()
