"""`python -m retrieval_lens.train <config.rlens.json> [--out RUNS_DIR] [--steps N] [--set key=value ...]`

The PyTorch trainer behind the same config, run format and views as the TypeScript trainer. Alone it
trains in one process; under `torchrun --nproc_per_node N` (here: `python -m retrieval_lens.launch`, the
same launcher) it trains with DistributedDataParallel — gloo on CPU, NCCL on GPUs:

- `training.batchSize` is the batch of each rank; the item embeddings of the batch's positives are
  all-gathered (torch.distributed.nn.functional.all_gather: gradients flow back to each rank's own shard),
  so every query is scored against the positives of all N ranks (effective batch N × batchSize) and its
  own explicit negatives. Each rank's loss is its rows' share Σ_{j∈J_r} ℓ(j) / |J| of the global mean,
  times N because DDP averages gradients: the update is that of one process with the whole batch.
- the data is sharded (train_data.py): files are streamed, rank r reading only its share of their line-index
  blocks (data/stream.py); a BEIR folder's pairs are permuted per epoch, rank r taking the r-th slice of each
  global batch. A data error on any rank (a bad-line share, a shard that disappeared) ends the run `failed`
  with that rank's located message.
- rank 0 alone writes the run folder (RunWriter). It prints `run: <run folder>` on stdout as soon as the
  folder exists, and `<status> at step <n>: <run folder>` at the end.
- SIGINT (Ctrl-C; torchrun forwards it): every rank finishes the current step (the ranks agree on the
  step with an all-reduce), rank 0 writes the last checkpoint and ends the run `stopped` (exit code 0).
- a NaN/±Infinity loss or gradient norm ends the run `failed` naming the quantity (exit code 1); a rank
  that dies leaves the run `running` with a dead pid, which readers show as `crashed`.
- `--resume RUN` continues RUN from its checkpoints/last in a new run folder (resume.py): weights, optimizer
  state, step count and data position (each rank's (epoch, pairs read); TrainingData.resume_start says what it
  means when the number of ranks changed).
Exit codes: 0 completed/stopped, 1 failed, 2 bad config or data (nothing written).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import signal
import sys
import time
from typing import Any, Dict, List, Optional, Tuple

from .startup import quiet_interrupts

quiet_interrupts("retrieval_lens.train")  # before torch's slow import: a Ctrl-C there needs no traceback
# The imports below come after that call on purpose (E402).
# ruff: noqa: E402

import torch
import torch.distributed as dist
import torch.version

from .collectives import Collectives, PeerLost
from .config import ConfigError, load_config, repo_version, resolve_path
from .data import DataError, Example, Item, normalise_text
from .evaluation import HeldOutEval, HeldOutSchedule
from .features import featurize, featurize_options
from .losses import BatchLossOutput, LearnedHyper, LossConfig, batch_loss
from .model import TwoTower, save_checkpoint
from .towers import query_featurizer
from .quality import quality_verdict
from .resume import ResumeError, ResumeState, carry_best_checkpoint, learned_state, read_resume, restore_learned, write_resume_files
from .run_writer import RunWriter, append_metrics_entry, step_event, write_dir_atomically
from .step_event import batch_diagnostics, batch_samples
from .train_data import TrainingData
from .verdict import CollapseMonitor, LearnedBoundWatch, with_learned_bound

BEST_EMA = 0.8
BEST_METRIC_IN_BATCH = "inBatchRecall@10 (EMA)"
BEST_METRIC_EVAL = "eval recall@10 (held-out queries)"


class NonFiniteError(Exception):
    """A training quantity became NaN or ±Infinity (nonFinite.ts: the same message)."""

    def __init__(self, step: int, quantity: str, value: float, last_checkpoint: Optional[int]):
        kept = "no checkpoint was written yet" if last_checkpoint is None else f"last checkpoint kept, from step {last_checkpoint}"
        shown = "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
        super().__init__(f"{quantity} is {shown} at step {step}; the run was stopped ({kept}). Check training.learningRate, loss.temperature / loss.tau0 and the data.")
        self.step, self.quantity = step, quantity


class NoNegativesError(Exception):
    """No batch had a single negative (nonFinite.ts' NoNegativesError)."""


#: How torch reports a collective that lost its peers (gloo / NCCL errors are plain RuntimeErrors in torch 1.x).
PEER_LOST_RE = re.compile(r"gloo|nccl|connection|peer|socket|timed out", re.IGNORECASE)


def parse_args(argv: List[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m retrieval_lens.train", description="Train a two-tower model from a *.rlens.json config (PyTorch, DDP under torchrun).")
    p.add_argument("config")
    p.add_argument("--out", help="runs folder (default: the config's output.runsDir)")
    p.add_argument("--steps", type=int, help="overrides training.steps / epochs")
    p.add_argument("--set", action="append", default=[], metavar="key=value", help="config override, e.g. loss.alpha=0.8 (repeatable)")
    p.add_argument("--resume", metavar="RUN", help="continue RUN from its checkpoints/last (weights, optimizer, step, data position) in a new run folder")
    p.add_argument("--held-out", help="the held-out sample the launcher prepared (src/trainer/launch/torchrunPrep.ts)")
    p.add_argument("--hard-negatives", help="the BM25-mined negatives the launcher prepared (data.hardNegatives)")
    p.add_argument("--audit", help="the data audit's run-log line the launcher wrote (data.audit; src/trainer/launch/torchrunPrep.ts)")
    return p.parse_args(argv)


class Dist(Collectives):
    """The process group torchrun describes in the environment (or a single process), initialised here."""

    def __init__(self) -> None:
        self.local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        device = torch.device(f"cuda:{self.local_rank}") if torch.cuda.is_available() else torch.device("cpu")
        super().__init__(int(os.environ.get("WORLD_SIZE", "1")), int(os.environ.get("RANK", "0")), device)
        self.backend = "nccl" if self.device.type == "cuda" else "gloo"
        if self.world > 1:
            if self.device.type == "cuda":
                torch.cuda.set_device(self.device)
            # One machine (launch --standalone): the ranks meet in a FileStore, not a TCP store on every interface.
            from retrieval_lens.launch import local_process_group_url

            url = local_process_group_url()
            if url:
                dist.init_process_group(self.backend, init_method=url, rank=self.rank, world_size=self.world)
            else:
                dist.init_process_group(self.backend)

    def close(self) -> None:
        if self.world > 1 and dist.is_initialized():
            dist.destroy_process_group()


HARDNEG_FORMAT = "rlens-hardneg-job-1"


#: The audit line the launcher writes is one line of the run log; more is not read.
MAX_AUDIT_LINE_BYTES = 64 * 1024


def audit_line(cfg: dict, path: Optional[str]) -> Optional[Tuple[str, str]]:
    """The run-log line of data.audit (level, text): the line the launcher wrote after auditing the data once for the
    job (torchrunPrep.ts runs startAudit.ts, as the built-in trainer does), or, started alone, what to run instead."""
    if not cfg["data"].get("audit"):
        return None
    if not path:
        return ("warn", "data.audit: the audit is run by the launcher (retrieval-lens train, or the extension's Train); started alone, run `retrieval-lens audit <config>`")
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_AUDIT_LINE_BYTES + 1)
    except OSError as e:
        raise DataError(f"--audit {path}: cannot read the launcher's audit line ({e.strerror})") from e
    if len(raw) > MAX_AUDIT_LINE_BYTES:
        raise DataError(f"--audit {path}: more than {MAX_AUDIT_LINE_BYTES} bytes: not the launcher's audit line")
    return ("info", raw.decode("utf-8", errors="replace").strip())


def load_mined(path: str) -> tuple:
    """The launcher's mined negatives (torchrunPrep.ts: the body of the .rlens-hardneg cache): query id → items,
    and the line saying what was mined (and a notice when a cache was mined again)."""
    def row(q: str, k: int, r: Any, n: int) -> int:
        # A row is an index into items: never a bool, a float or a negative index (Python would wrap it around).
        if type(r) is not int or not 0 <= r < n:
            raise ValueError(f"negatives.{q}[{k}]: {r!r} is not a row of items (0–{n - 1})")
        return r

    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        if not isinstance(doc, dict):
            raise ValueError("not a JSON object")
        if doc.get("format") != HARDNEG_FORMAT:
            raise ValueError(f"format {doc.get('format')!r}, not {HARDNEG_FORMAT}")
        items = [Item(str(i), str(t)) for i, t in doc["items"]]
        by_query = {q: [items[row(q, k, r, len(items))] for k, r in enumerate(rows)] for q, rows in doc["negatives"].items()}
        return by_query, doc["description"], doc.get("notice")
    except (OSError, ValueError, KeyError, TypeError, IndexError) as e:
        raise DataError(f"--hard-negatives {path}: not the launcher's mined negatives ({e})") from e


class Featurizer:
    """Feature ids of a batch's pairs (nothing cached but the mined negatives' features: the data is streamed, and
    featurising is cheap): query, positive, its first `max_negatives` explicit negatives, the mined negatives of
    its query id (data.hardNegatives) with their normalised texts, and the positive's normalised text."""

    def __init__(self, model_cfg: dict, max_negatives: int, mined: Optional[Dict[str, List[Item]]] = None):
        self.q = query_featurizer(model_cfg)
        self.i = featurize_options(model_cfg, "item")
        self.max_negatives = max_negatives
        self.mined = mined or {}
        self._mined_feats: Dict[str, tuple] = {}

    def _mined(self, n: Item) -> tuple:
        if n.id not in self._mined_feats:
            self._mined_feats[n.id] = (n.id, normalise_text(n.text), featurize(n.text, self.i), n)
        return self._mined_feats[n.id]

    def get(self, ex: Example):
        negs = ex.negatives[: self.max_negatives]
        return (
            self.q(ex.query),
            featurize(ex.positive.text, self.i),
            [(n.id, featurize(n.text, self.i), n) for n in negs],
            [self._mined(n) for n in self.mined.get(ex.query_id, [])],
            normalise_text(ex.positive.text),
        )


def batch_negatives(rows: List[tuple], pos_ids: List[str]) -> tuple:
    """The explicit negatives of a batch as batcher.ts lays them out: each pair's own (owner j), then the mined
    negatives of the batch's queries, each item once and none that is one of the batch's positives, shared by
    every pair (owner -1). A mined negative with the normalised text of a positive carries that positive's id,
    so the id mask leaves it out of that pair's negatives (an accidental hit by text).
    → (ids, feats, owners, sources): sources[k] = (j, item), negative k's item and the pair that brought it."""
    neg_ids: List[str] = []
    neg_feats: list = []
    owners: List[int] = []
    sources: List[tuple] = []
    for j, row in enumerate(rows):
        for nid, nf, item in row[2]:
            neg_ids.append(nid)
            neg_feats.append(nf)
            owners.append(j)
            sources.append((j, item))
    positives = set(pos_ids)
    by_norm: Dict[str, str] = {row[4]: pid for row, pid in zip(rows, pos_ids, strict=True)}
    seen: set = set()
    for j, row in enumerate(rows):
        for mid, norm, mf, item in row[3]:
            if mid in positives or mid in seen:
                continue
            seen.add(mid)
            neg_ids.append(by_norm[norm] if norm in by_norm else str(mid))
            neg_feats.append(mf)
            owners.append(-1)
            sources.append((j, item))
    return neg_ids, neg_feats, owners, sources


def distributed_loss(
    dd: "Dist",
    net,
    loss_cfg: LossConfig,
    query_feats,
    pos_feats,
    pos_ids: List[str],
    neg_feats,
    neg_ids: List[str],
    owners: List[int],
    learned: Optional[Dict[str, torch.Tensor]] = None,
    text_keys: Optional[List[str]] = None,
    neg_text_keys: Optional[List[str]] = None,
) -> BatchLossOutput:
    """Forward pass and loss of this rank's B pairs against the all-gathered positives of every rank and its
    own explicit negatives (losses.batch_loss). Returns the BatchLossOutput (with the scored batch); `out.loss` is
    this rank's share Σ_{j∈J_r} ℓ(j) / |J| of the global loss (the ranks' shares sum to it)."""
    B = len(pos_ids)
    q, items_local = net(query_feats, list(pos_feats) + list(neg_feats))
    out = batch_loss(q, items_local[:B], items_local[B:], pos_ids, neg_ids, owners, loss_cfg, dd, learned, text_keys, neg_text_keys)
    return out


class Optimizer:
    """Adam (learning rate from the config) on the dense weights, and on the embedding tables either a lazy
    Adam (SparseAdam: only the rows a batch touched are updated, as the TypeScript trainer's lazy Adam) with
    sparse gradients — on CPU (gloo) — or dense Adam on GPUs (NCCL has no sparse all-reduce here)."""

    def __init__(self, model: TwoTower, lr: float):
        self.sparse = model.query.embedding.sparse
        dense = model.dense_parameters()
        tables = model.table_parameters()
        self.opts: List[torch.optim.Optimizer] = [torch.optim.Adam(dense, lr=lr)] if self.sparse else [torch.optim.Adam(dense + tables, lr=lr)]
        if self.sparse:
            self.opts.append(torch.optim.SparseAdam(tables, lr=lr))
        self.params = dense + tables

    @property
    def lr(self) -> float:
        return self.opts[0].param_groups[0]["lr"]

    def zero_grad(self) -> None:
        for o in self.opts:
            o.zero_grad(set_to_none=True)

    def step(self) -> None:
        for o in self.opts:
            o.step()

    def state_dicts(self) -> List[dict]:
        return [o.state_dict() for o in self.opts]

    def load_state_dicts(self, states: List[dict]) -> None:
        if len(states) != len(self.opts):
            raise ValueError(f"the checkpoint has {len(states)} optimizer states, this model {len(self.opts)} (sparse embedding tables on CPU, dense on GPU: resume on the same kind of device)")
        for o, st in zip(self.opts, states, strict=True):
            o.load_state_dict(st)


def grad_norm_of(params) -> float:
    """Global L2 norm of all gradients (a sparse gradient counts its coalesced rows)."""
    total = 0.0
    for p in params:
        g = p.grad
        if g is None:
            continue
        if g.is_sparse:
            g = g.coalesce().values()
        total += float(torch.linalg.vector_norm(g.double() if g.numel() < 1 << 20 else g, 2)) ** 2
    return math.sqrt(total)


def backward(dd: "Dist", model: TwoTower, opt: Optimizer, out) -> tuple:
    """Gradients of the global loss (this rank's share × N: DDP averages); returns the global loss, lossQ,
    lossSym (all-reduced) and the global L2 norm of all gradients. The caller checks them and steps."""
    opt.zero_grad()
    (out.loss * dd.world).backward()
    loss, loss_q, loss_sym = dd.sum([float(out.loss), float(out.loss_q), float(out.loss_sym)])
    return loss, loss_q, loss_sym, grad_norm_of(opt.params)


def finite_or_none(x: float) -> Optional[float]:
    return x if math.isfinite(x) else None


def resolved_config(cfg: dict, config_path: str, runs_root: str, world: int) -> dict:
    """The run's config.json: absolute data paths, the runs folder, and the trainer that ran it (kind
    "torchrun" with this job's process count: the TypeScript reader refuses torchrun-only keys with kind "node")."""
    c = json.loads(json.dumps(cfg))
    for k in ("train", "test", "corpus"):
        if c["data"].get(k):
            c["data"][k] = resolve_path(config_path, c["data"][k])
    c["output"] = {"runsDir": runs_root}
    c["trainer"] = {**c.get("trainer", {}), "kind": "torchrun", "nprocPerNode": world}
    return c


def recorded_config_path(config: str, resume: Optional[str]) -> str:
    """meta.json configPath of the new run: the config file, except when it resumes a run from that run's own
    config.json (`retrieval-lens train --resume RUN`): then the config the resumed run recorded, so that readers
    file both runs under the same experiment."""
    path = os.path.abspath(config)
    if resume and os.path.normpath(path) == os.path.normpath(os.path.join(os.path.abspath(resume), "config.json")):
        try:
            with open(os.path.join(resume, "meta.json"), encoding="utf-8") as f:
                recorded = json.load(f).get("configPath")
        except (OSError, ValueError, AttributeError):
            recorded = None
        if isinstance(recorded, str) and recorded:
            return recorded
    return path


def train(argv: List[str]) -> int:
    """Runs the trainer (exit code as the return value); SIGINT's previous handler is restored after."""
    previous = signal.getsignal(signal.SIGINT)
    try:
        return _train(argv)
    finally:
        signal.signal(signal.SIGINT, previous)


def _train(argv: List[str]) -> int:
    args = parse_args(argv)
    stop = {"requested": False}

    def on_sigint(_sig, _frame):
        stop["requested"] = True

    signal.signal(signal.SIGINT, on_sigint)
    dd = Dist()
    main = dd.rank == 0

    def say(line: str, err: bool = False) -> None:
        if main:
            print(line, file=sys.stderr if err else sys.stdout, flush=True)

    try:
        cfg = load_config(args.config, args.set)
        t = cfg["training"]
        data = TrainingData(cfg, args.config, dd.rank, dd.world, t["batchSize"])
        for k in ("test", "corpus"):
            p = cfg["data"].get(k)
            if p and not os.path.exists(resolve_path(args.config, p)):
                raise DataError(f"data.{k}: {resolve_path(args.config, p)} does not exist")
        every = cfg["evaluation"]["every"]
        if every != "auto" and every > 0 and not cfg["data"].get("test"):
            raise DataError(f"evaluation.every is {every} but data.test is not set in {args.config}")
        # "auto" without data.test: live held-out evaluation is off (the best checkpoint rule says so).
        live = every != 0 and bool(cfg["data"].get("test"))
        resumed: Optional[ResumeState] = read_resume(args.resume) if args.resume else None
        if resumed is not None:
            differs = [k for k, v in resumed.model.items() if cfg["model"].get(k, v) != v]
            if differs:
                raise ConfigError(f"{args.config}: model.{differs[0]} is {cfg['model'].get(differs[0])} but the checkpoint {resumed.dir} has {resumed.model[differs[0]]}; resume with the run's model settings")
        mined, mined_line, mined_notice = None, None, None
        if cfg["data"].get("hardNegatives"):
            if not args.hard_negatives:
                raise DataError("data.hardNegatives: the negatives are mined by the launcher (retrieval-lens train, or the extension's Train); started alone, pass --hard-negatives FILE")
            mined, mined_line, mined_notice = load_mined(args.hard_negatives)
        audit = audit_line(cfg, args.audit)
        periodic = None
        if live and dd.rank == 0:
            if args.held_out:
                periodic = HeldOutEval.from_sample(args.held_out, cfg["model"])
            else:
                periodic = HeldOutEval.from_config(cfg, lambda p: resolve_path(args.config, p), t["seed"])
    except (ConfigError, DataError, ResumeError) as e:
        say(f"error: {e}", err=True)
        dd.close()
        return 2
    if args.steps is not None:
        total = args.steps
    elif t.get("epochs") is not None:
        total = max(1, math.ceil(t["epochs"] * data.planned / (t["batchSize"] * dd.world)))
    else:
        total = t["steps"]
    if resumed is not None and resumed.step >= total:
        say(f"error: the checkpoint of {args.resume} is at step {resumed.step}, and this run has {total} steps: nothing to resume (raise --steps or training.steps)", err=True)
        data.close()
        dd.close()
        return 2

    runs_root = os.path.abspath(args.out) if args.out else resolve_path(args.config, cfg["output"]["runsDir"])
    backend_name = f"torch-{dd.device.type}"
    writer: Optional[RunWriter] = None
    if main:
        try:
            writer = RunWriter.create(
                runs_root,
                cfg["name"],
                resolved_config(cfg, args.config, runs_root, dd.world),
                {
                    "configPath": recorded_config_path(args.config, args.resume),
                    "backend": backend_name,
                    "totalSteps": total,
                    "versions": {
                        "retrievalLens": repo_version(),
                        "python": platform.python_version(),
                        "torch": torch.__version__,
                        "cuda": torch.version.cuda or "none",
                        "worldSize": str(dd.world),
                    },
                },
            )
        except OSError as e:
            say(f"error: cannot create a run folder in {runs_root}: {e}", err=True)
            os._exit(2)
        say(f"run: {writer.dir}")

    def log(level: str, message: str) -> None:
        if writer is not None:
            writer.append_event({"type": "log", "level": level, "message": message})
            if level in ("warn", "error"):
                print(f"[{level}] {message}", file=sys.stderr, flush=True)

    torch.manual_seed(t["seed"])
    model = TwoTower(cfg["model"], sparse=dd.device.type == "cpu").to(dd.device)
    if resumed is not None:
        model.load_state_dict(resumed.weights)
    net = model
    if dd.world > 1:
        from torch.nn.parallel import DistributedDataParallel

        net = DistributedDataParallel(model, device_ids=[dd.local_rank] if dd.device.type == "cuda" else None)
    opt = Optimizer(model, t["learningRate"])
    if resumed is not None:
        opt.load_state_dicts(resumed.optimizers)
    loss_cfg = LossConfig.from_config(cfg["loss"])
    learned = LearnedHyper(loss_cfg).to(dd.device)
    learned_opt = learned.optimizer()
    learned_notes = restore_learned(learned, learned_opt, resumed.learned) if resumed is not None else []
    bound_watch = LearnedBoundWatch()
    bound_warned: Optional[str] = None
    monitor = CollapseMonitor(cfg.get("diagnostics", {}).get("collapse", {}), total_steps=total)
    feats = Featurizer(cfg["model"], t["maxNegativesPerExample"], mined)
    data.log = log
    start_note = ""
    data_start = (0, 0)
    if resumed is not None:
        data_start, start_note = data.resume_start(resumed.data)
    batches = data.batches(data_start)
    trained_pos = data_start
    mask_duplicates = bool(cfg["data"].get("maskDuplicateNegatives", False))
    step_samples = bool(cfg.get("diagnostics", {}).get("stepSamples", True))

    def sample_refs(s: int, out, batch: List[Example], sources: List[tuple]) -> dict:
        """The step sample of rank 0's pairs: the candidates are every rank's positives (gathered: every rank
        calls this at a logged step), then rank 0's explicit negatives (batch_negatives' sources, mined ones
        included). References are the items' own lines when the data has them (BEIR corpus), else the line of the
        pair that brought them. Empty on the other ranks."""
        def ref(it, ex: Example) -> tuple:
            return (it.id, it.file or ex.file, it.line or ex.line, it.text)

        own = [ref(ex.positive, ex) for ex in batch]
        gathered = dd.gather_objects(own) if dd.world > 1 else [own]
        if dd.rank != 0:
            return {}
        cands = [c for part in gathered for c in part] + [ref(item, batch[j]) for j, item in sources]
        queries = [(ex.query_id, ex.file, ex.line) for ex in batch]
        return batch_samples(out, s, queries, [c[:3] for c in cands], [c[3] for c in cands])
    best_metric = BEST_METRIC_EVAL if live else BEST_METRIC_IN_BATCH
    best_rule = "held-out" if live else "in-batch"
    schedule = HeldOutSchedule(every, cfg["evaluation"]["heldOutBudget"], total, periodic.prep_s, periodic.estimate_s(model, dd.device)) if periodic is not None else None
    held_out_recalls: List[float] = []
    quality: Optional[dict] = None

    step = 0
    status = "completed"
    error: Optional[dict] = None
    last_ckpt: Optional[int] = None
    best_score, best_written, smoothed = -math.inf, -math.inf, None
    negatives_seen = False
    if resumed is not None:
        sc = resumed.scores
        step = last_ckpt = resumed.step
        best_score = sc["best"] if isinstance(sc.get("best"), (int, float)) else -math.inf
        best_written = sc["bestWritten"] if isinstance(sc.get("bestWritten"), (int, float)) else -math.inf
        smoothed = sc.get("smoothed") if isinstance(sc.get("smoothed"), (int, float)) else None
        negatives_seen = bool(sc.get("negativesSeen"))
    first_epoch = data_start[0]
    current = 0

    def checkpoint(kind: str, positions: Optional[list] = None) -> None:
        nonlocal last_ckpt
        assert writer is not None, "only the writing rank checkpoints"
        rel = f"checkpoints/{kind}"
        extra = {"backend": backend_name, "worldSize": dd.world}
        if learned_opt is not None:
            extra["learned"] = learned.floats()  # the learned α / δ₀ / τ₀ at this step (docs/run-format.md §7)
        if kind == "best":
            extra.update(metric=best_metric, value=best_score, rule=best_rule)

        def write(d: str) -> None:
            save_checkpoint(d, model, step, extra)
            if positions is not None:
                scores = {"best": finite_or_none(best_score), "bestWritten": finite_or_none(best_written), "smoothed": smoothed, "negativesSeen": negatives_seen}
                write_resume_files(d, step, data.position_record(positions), scores, opt.state_dicts(), learned_state(learned, learned_opt))

        write_dir_atomically(os.path.join(writer.dir, rel), write)
        if kind == "best":
            writer.record_checkpoint("best", {"step": step, "path": rel, "metric": best_metric, "value": best_score, "rule": best_rule})
        else:
            writer.record_checkpoint("last", {"step": step, "path": rel})
            last_ckpt = step

    def checkpoint_both() -> None:
        """Called on every rank (the data positions of all ranks go into the last checkpoint's resume.json)."""
        nonlocal best_written
        positions = dd.gather_objects(trained_pos)
        if writer is None:
            return
        write_best = not live and best_score > best_written
        if write_best:
            best_written = best_score
        checkpoint("last", positions)
        if write_best:
            checkpoint("best")

    def peer_lost(e: Exception) -> None:
        # Another rank died: this job cannot go on. The run stays "running" with this (now ending) pid, so
        # readers show it crashed, as a killed TypeScript trainer; every logged step stays readable.
        if writer is not None:
            try:
                log("error", f"rank {dd.rank} lost its peers at step {current} ({e}); the run ends crashed")
            except OSError:
                pass
        print(f"error: lost a peer rank at step {current}: {e}", file=sys.stderr, flush=True)
        os._exit(1)

    def failure(e: Exception):
        if isinstance(e, NonFiniteError):
            return "failed", {"message": str(e), "step": e.step, "quantity": e.quantity}
        message = str(e) if isinstance(e, (RuntimeError, NoNegativesError, OSError, DataError)) else f"{type(e).__name__}: {e}"
        return "failed", {"message": message, "step": current or step + 1}

    try:
        log("info", f"backend {backend_name}, {dd.backend if dd.world > 1 else 'one process'}; torch {torch.__version__}")
        for level, note in data.notes:
            log(level, note)
        planned = f" (training.epochs planned on the {data.planned} data lines)" if data.stream is not None and args.steps is None and t.get("epochs") is not None else ""
        log("info", f"{data.start_line}; {total} steps of {t['batchSize']} per rank{planned}")
        if audit is not None:
            log(*audit)
        if data.positive_text_note:
            log("info", data.positive_text_note)
        if resumed is not None and writer is not None:
            carried = carry_best_checkpoint(args.resume, writer.dir)
            if carried is not None:
                writer.record_checkpoint("best", carried)
        if resumed is not None:
            log("info", f"resumed from {resumed.dir} at step {resumed.step} (weights, optimizer state, best-checkpoint scores; written by {resumed.data['worldSize']} rank{'s' if resumed.data['worldSize'] != 1 else ''}): steps {resumed.step + 1}–{total}")
            if start_note:
                log("info", start_note)
            for note in learned_notes:
                log("info", note)
        if mined_notice:
            log("warn", f"hard negatives: {mined_notice}")
        if mined_line:
            log("info", f"{mined_line}; {len(mined or {})} training queries have mined negatives")
        if periodic is not None and schedule is not None:
            bm25 = periodic.bm25
            ref = (
                f"BM25 on the same sample recall@10 {bm25['recall@10']:.3f} (the reference, computed once)"
                if bm25
                else "no BM25 reference (the launcher computes it: retrieval-lens train)"
            )
            log("info", f"held-out: {periodic.info['description']}, exact search; {ref}; prepared in {periodic.prep_s:.1f} s{f' ({periodic.cache})' if periodic.cache else ''}; {schedule.describe()}")
            log("info", 'best checkpoint rule "held-out": the highest held-out exact recall@10 of live evaluation (data.test is set)')
        else:
            log("info", f'best checkpoint rule "in-batch": the highest smoothed in-batch recall@10 (EMA {BEST_EMA}); no live held-out evaluation: ' + ("evaluation.every is 0" if every == 0 else "no test data (data.test is not set)"))
        loop_start, held_out_s = time.perf_counter(), 0.0
        if dd.world > 1:
            log("info", f"DDP: {dd.world} ranks × batch {t['batchSize']} = effective batch {dd.world * t['batchSize']}, in-batch negatives all-gathered across ranks")
        B = t["batchSize"]
        fetched_pos = trained_pos
        while step < total:
            data_error: Optional[str] = None
            batch: List[Example] = []
            epoch = 0
            try:
                batch, epoch = next(batches)
                fetched_pos = data.position
            except DataError as e:
                data_error = str(e)
            stop_now, data_failed, *share = dd.sum([1.0 if stop["requested"] else 0.0, 1.0 if data_error else 0.0, *data.share_counts()])
            if data_failed:
                # Every rank ends with the located message of the first rank whose data failed.
                raise DataError(next(m for m in dd.gather_objects(data_error) if m))
            data.check_share(share, dd.gather_objects)  # data.maxBadLineShare over all ranks' lines
            if stop_now:
                status = "stopped"
                break
            s = step + 1
            current = s
            logged = s % t["logEvery"] == 0 or s == 1 or s == total
            if epoch != first_epoch and not negatives_seen:
                raise NoNegativesError(
                    f"no negatives in the whole first epoch (steps 1–{s - 1}): every in-batch item has the positive's id and there are no explicit negatives, so the loss is 0 and nothing is learned. Give items distinct ids (item_id / positive.id) or add \"negatives\"."
                )
            t0 = time.perf_counter()
            rows = [feats.get(ex) for ex in batch]
            pos_ids = [ex.positive.id for ex in batch]
            neg_ids, neg_feats, owners, sources = batch_negatives(rows, pos_ids)
            text_keys = neg_text_keys = None
            if mask_duplicates:  # data.maskDuplicateNegatives: same-text negatives masked as batcher.ts does
                text_keys = [row[4] for row in rows]
                neg_text_keys = [normalise_text(item.text) for _, item in sources]
            if learned_opt is not None:
                learned_opt.zero_grad(set_to_none=True)
            out = distributed_loss(dd, net, loss_cfg, [r[0] for r in rows], [r[1] for r in rows], pos_ids, neg_feats, neg_ids, owners, learned.values() or None, text_keys, neg_text_keys)
            rows_global = out.rows_with_negatives
            if rows_global > 0:
                negatives_seen = True
            elif s == 1:
                log("warn", "step 1 has no negative: every in-batch item has the positive's id and there are no explicit negatives, so the loss is 0 and nothing is learned.")
            loss, loss_q, loss_sym, grad_norm = backward(dd, model, opt, out)
            for quantity, value in (("loss", loss), ("loss_q", loss_q), ("loss_sym", loss_sym), ("gradient_norm", grad_norm)):
                if not math.isfinite(value):
                    raise NonFiniteError(s, quantity, value, last_ckpt)
            opt.step()
            if learned_opt is not None:
                # Each rank's θ.grad is of its share × world (backward): the global loss's gradient is their sum / world.
                thetas = list(learned.theta.values())
                grads = dd.sum([float(p.grad) if p.grad is not None else 0.0 for p in thetas])
                for p, g in zip(thetas, grads, strict=True):
                    p.grad = torch.tensor(g / dd.world, dtype=p.dtype, device=p.device)
                learned_opt.step()
            trained_pos = fetched_pos
            if dd.device.type == "cuda":
                torch.cuda.synchronize(dd.device)
            step_ms = (time.perf_counter() - t0) * 1000
            step = s
            samples = sample_refs(s, out, batch, sources) if logged and step_samples else {}
            if logged and writer is not None:
                diag = batch_diagnostics(out, s == 1 or s % t["effectiveRankEvery"] == 0 or s == total)
                values = learned.floats() if learned_opt is not None else None
                bound = bound_watch.update(values, s) if values else None
                if bound is not None and bound_warned is None:
                    log("warn", f"step {s}: {bound}")
                bound_warned = bound
                verdict = with_learned_bound(monitor.update(diag, s), bound)
                event = step_event(s, epoch, loss, loss_q, loss_sym, opt.lr, grad_norm, step_ms, B * dd.world, diag, verdict, values)
                event.update(samples)
                writer.append_event(event)
                r10 = diag["recall"]["at10"]
                smoothed = r10 if smoothed is None else BEST_EMA * smoothed + (1 - BEST_EMA) * r10
                if not live:
                    best_score = max(best_score, smoothed)
            if writer is not None:
                writer.heartbeat(step)
            if periodic is not None and writer is not None and schedule is not None and schedule.due(step, time.perf_counter() - loop_start - held_out_s):
                e0 = time.perf_counter()
                metrics = periodic.run(model, dd.device)
                held_out_recalls.append(metrics["recall@10"])
                verdict = quality_verdict(held_out_recalls, periodic.bm25["recall@10"] if periodic.bm25 else None, smoothed)
                if quality is None or verdict["state"] != quality["state"]:
                    log("info", f"step {step}: quality verdict {verdict['state']}: {verdict['reason']}")
                quality = verdict
                append_metrics_entry(writer.dir, periodic.metrics_entry(step, metrics), lambda m: log("warn", m))
                writer.append_event({"type": "eval", "step": step, "metrics": metrics, "heldOut": periodic.info, "quality": verdict})
                if metrics["recall@10"] > best_score:
                    # Under the held-out rule `best` is written when an evaluation finds a new best (the weights it measured).
                    best_score = best_written = metrics["recall@10"]
                    checkpoint("best")
                schedule.spent(step, time.perf_counter() - e0)
                held_out_s += time.perf_counter() - e0
            if step % t["checkpointEvery"] == 0 and step < total:
                checkpoint_both()
        if step > 0 and not negatives_seen:
            raise NoNegativesError(f"no negatives in any step (steps 1–{step}): the loss is 0 and nothing is learned. Give items distinct ids or add \"negatives\".")
        if step > 0:
            checkpoint_both()
        if schedule is not None:
            trained_s = time.perf_counter() - loop_start - held_out_s
            share = schedule.spent_s / max(1e-3, trained_s)
            over = share > cfg["evaluation"]["heldOutBudget"]
            why = ""
            if over and every == "auto":
                why = f" (over the budget of {100 * cfg['evaluation']['heldOutBudget']:g}%: " + (
                    "no evaluation fitted in it before the last step, which was evaluated anyway)" if schedule.forced_last else "an evaluation took longer than the one before)"
                )
            n = len(held_out_recalls)
            log("warn" if over else "info", f"held-out: {n} evaluation{'' if n == 1 else 's'} took {schedule.spent_s:.1f} s with the preparation, {100 * share:.1f}% of {trained_s:.1f} s of training{why}")
    except Exception as e:  # noqa: BLE001 - every error ends the run: crashed (a lost rank) or failed
        if dd.world > 1 and (isinstance(e, PeerLost) or (isinstance(e, RuntimeError) and PEER_LOST_RE.search(str(e)))):
            peer_lost(e)
        status, error = failure(e)
        log("error", error["message"])

    if status == "stopped":
        log("info", f"stopped by request after step {step}")
    code = 1 if status == "failed" else 0
    if writer is not None:
        for m in writer.finish(status, error):
            print(f"error: {m}", file=sys.stderr, flush=True)
            code = 1
        if error:
            print(f"error: {error['message']}", file=sys.stderr, flush=True)
        say(f"{status} at step {step}: {writer.dir}")
    data.close()
    dd.close()
    return code


def main() -> None:
    sys.exit(train(sys.argv[1:]))


if __name__ == "__main__":
    main()
