"""`retrieval_lens.Lens`: a run logger for any PyTorch training loop (README, "Use your own model").

    with Lens("runs", "my-encoder", config={"lr": 1e-4}, total_steps=1000, loss=loss_fn, data={"test": "test.jsonl"}) as lens:
        for step in range(1, 1001):
            out = loss_fn(model(q), model(v), ids=item_ids)     # a retrieval_lens.losses module
            out.loss.backward(); opt.step(); opt.zero_grad()
            lens.log(step, out, lr=opt.param_groups[0]["lr"])  # a step event every `log_every` steps
            lens.log_scalars(step, {"gradNorm/encoder": g})    # your own numbers (a `scalars` event)
        lens.evaluate(encode_queries, encode_items)            # Faiss + BM25 evaluation of your encoder

The run folder is the documented one (docs/run-format.md), written by the same RunWriter as the PyTorch trainer:
the step events carry the same diagnostics, collapse verdict and loss parts. Under torch.distributed only rank 0
writes (every method is a no-op elsewhere). An exception in the `with` block ends the run `failed` with the step
being computed; Ctrl-C ends it `stopped`; a killed process leaves status "running" with a dead pid and a stale
heartbeat, which readers show as `crashed`. Every step event written stays readable in every case.
"""

from __future__ import annotations

import json
import math
import os
import platform
import subprocess
import threading
import time
from types import TracebackType
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Type, Union

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F

from .config import REPO_ROOT, SCHEMA_PATH, repo_version, validate
from .evaluation import load_eval_set
from .losses import BatchLossOutput, LossConfig, RetrievalLoss, batch_loss
from .run_writer import RunWriter, step_event, summarize_config, write_dir_atomically, write_json_atomic
from .step_event import batch_diagnostics
from .verdict import CollapseMonitor

#: Diagnostics every 10 steps: ≤ 5% of a paper-shape step (`npm run bench:lens` prints both).
DEFAULT_LOG_EVERY = 10
#: config.json's data.train when the loop's training data was not named (the schema requires one).
NO_TRAIN_DATA = "(training data of a custom loop, not given to retrieval_lens.Lens)"
#: The user's own config, beside config.json.
USER_CONFIG_FILE = "user-config.json"
#: Where `evaluate` writes the embeddings (docs/run-format.md §8.1).
EMBEDDINGS_DIR = "embeddings"
HEARTBEAT_THREAD_SECONDS = 10.0
CLI = os.path.join(REPO_ROOT, "bin", "retrieval-lens.js")

Encoder = Callable[[List[str]], Union[torch.Tensor, np.ndarray]]


class NonFiniteLoss(FloatingPointError):
    """The logged loss became NaN or ±Infinity (the trainer's message and quantity names)."""

    def __init__(self, step: int, quantity: str, value: float):
        shown = "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
        super().__init__(f"{quantity} is {shown} at step {step}; the run was stopped. Check the learning rate, the temperature / τ₀ and the data.")
        self.step, self.quantity = step, quantity


def _rank() -> int:
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank()
    return int(os.environ.get("RANK", "0"))


def _number(value: Any, name: str) -> Optional[float]:
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise TypeError(f"{name}: expected a number, got a tensor of shape {list(value.shape)}")
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise TypeError(f"{name}: expected a number, got {type(value).__name__}")
    x = float(value)
    return x if math.isfinite(x) else None


class Lens:
    """One run of a custom training loop. Arguments:

    - runs_dir, name: the run folder is `<runs_dir>/<UTC time>-<slug of name>` (docs/run-format.md §1).
    - config: your own settings (any JSON object); written to user-config.json, its top-level scalars shown in run lists.
    - total_steps: the planned number of steps (progress, the verdict's never-separated window), or None.
    - loss: the loss module (or a LossConfig) whose δ/τ the histograms show; default AdaptiveSoftmaxLoss's settings.
    - data: {"train", "test", "corpus"} paths of your data, relative to the working directory; `evaluate` and
      `retrieval-lens eval <run> --embeddings` read test and corpus from it (data.test can also be passed there).
    - log_every: a step event with diagnostics every this many steps (and at steps 1 and total_steps).
    - effective_rank_every, collapse: the config's training.effectiveRankEvery and diagnostics.collapse thresholds.
    """

    def __init__(
        self,
        runs_dir: str,
        name: str,
        config: Optional[Mapping[str, Any]] = None,
        total_steps: Optional[int] = None,
        loss: Union[RetrievalLoss, LossConfig, None] = None,
        data: Optional[Mapping[str, str]] = None,
        log_every: int = DEFAULT_LOG_EVERY,
        effective_rank_every: int = 50,
        batch_size: Optional[int] = None,
        collapse: Optional[Mapping[str, Any]] = None,
    ):
        if log_every < 1:
            raise ValueError(f"log_every must be >= 1, got {log_every}")
        self.runs_dir = os.path.abspath(runs_dir)
        self.name = name
        self.user_config = dict(config or {})
        self.total_steps = total_steps
        self.loss_config = loss.cfg if isinstance(loss, RetrievalLoss) else (loss or LossConfig())
        self.log_every = log_every
        self.effective_rank_every = effective_rank_every
        self.rank = _rank()
        self.experiment = self._experiment_config(data or {}, batch_size, collapse or {})
        self.writer: Optional[RunWriter] = None
        self.dir: Optional[str] = None
        self.step = 0
        self.status: Optional[str] = None
        self._monitor = CollapseMonitor(dict(collapse or {}), total_steps=total_steps)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._beat: Optional[threading.Thread] = None
        self._last_log: Optional[tuple] = None

    def _experiment_config(self, data: Mapping[str, str], batch_size: Optional[int], collapse: Mapping[str, Any]) -> Dict[str, Any]:
        """config.json: a valid experiment config (schemas/experiment.schema.json, defaults filled) naming the loss,
        the data (absolute paths) and the logging intervals, so every reader of run folders understands it."""
        unknown = sorted(set(data) - {"train", "test", "corpus"})
        if unknown:
            raise ValueError(f"data: unknown key(s) {', '.join(unknown)}; known: train, test, corpus")
        training: Dict[str, Any] = {"logEvery": self.log_every, "effectiveRankEvery": self.effective_rank_every}
        if self.total_steps is not None:
            training["steps"] = self.total_steps
        if batch_size is not None:
            training["batchSize"] = batch_size
        cfg: Dict[str, Any] = {
            "name": self.name,
            "data": {"train": NO_TRAIN_DATA, **{k: os.path.abspath(v) for k, v in data.items()}},
            "loss": self.loss_config.as_config(),
            "training": training,
            "output": {"runsDir": self.runs_dir},
        }
        if collapse:
            cfg["diagnostics"] = {"collapse": dict(collapse)}
        with open(SCHEMA_PATH, encoding="utf-8") as f:
            schema = json.load(f)
        problems: List[str] = []
        cfg = validate(cfg, schema, "$", problems)
        if problems:
            raise ValueError("retrieval_lens.Lens: " + "; ".join(problems))
        return cfg

    # ---- the run ----

    def __enter__(self) -> "Lens":
        self.start()
        return self

    def __exit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException], tb: Optional[TracebackType]) -> bool:
        if exc is None or (isinstance(exc, SystemExit) and exc.code in (None, 0)):
            self.finish("completed")
        elif isinstance(exc, KeyboardInterrupt):
            self.finish("stopped")
        elif isinstance(exc, NonFiniteLoss):
            self.finish("failed", {"message": str(exc), "step": exc.step, "quantity": exc.quantity})
        else:
            self.finish("failed", {"message": f"{type(exc).__name__}: {exc}", "step": self.step + 1})
        return False

    def start(self) -> None:
        """Creates the run folder (rank 0) and starts the heartbeat (meta.json every 10 s while the process lives)."""
        if self.rank != 0 or self.writer is not None:
            return
        summary = {"name": self.name, "loss": self.loss_config.type, "adaptive": self.loss_config.adaptive, "trainer": "custom loop", **summarize_config(self.user_config)}
        self.writer = RunWriter.create(
            self.runs_dir,
            self.name,
            self.experiment,
            {
                "backend": "torch-cuda" if torch.cuda.is_available() else "torch-cpu",
                "totalSteps": self.total_steps,
                "versions": {"python": platform.python_version(), "torch": torch.__version__, "retrievalLens": repo_version()},
            },
            summary,
        )
        self.dir = self.writer.dir
        write_json_atomic(os.path.join(self.dir, USER_CONFIG_FILE), self.user_config)
        self._beat = threading.Thread(target=self._heartbeat, name="retrieval-lens-heartbeat", daemon=True)
        self._beat.start()

    def _heartbeat(self) -> None:
        while not self._stop.wait(HEARTBEAT_THREAD_SECONDS):
            with self._lock:
                if self.writer is None or self.writer.finished:
                    return
                try:
                    self.writer.update_meta({})
                except OSError:
                    pass  # the next beat tries again; a full disk is reported by the next event write

    def finish(self, status: str, error: Optional[Dict[str, Any]] = None) -> None:
        """Ends the run: an error log event, `end`, then the final meta.json (what `with` does on exit)."""
        self._stop.set()
        with self._lock:
            if self.writer is None or self.writer.finished:
                return
            if error is not None:
                try:
                    self.writer.append_event({"type": "log", "level": "error", "message": error["message"]})
                except OSError:
                    pass
            self.status = status
            for m in self.writer.finish(status, error):
                print(f"retrieval_lens.Lens: {m}", flush=True)

    # ---- logging ----

    def due(self, step: int) -> bool:
        """Whether `log(step, …)` writes a step event: every log_every steps, at step 1 and at total_steps."""
        return step == 1 or step % self.log_every == 0 or step == self.total_steps

    def log(
        self,
        step: int,
        out: Optional[BatchLossOutput] = None,
        *,
        q: Optional[torch.Tensor] = None,
        v: Optional[torch.Tensor] = None,
        ids: Optional[Sequence[Any]] = None,
        epoch: int = 0,
        lr: Optional[float] = None,
        grad_norm: Optional[float] = None,
        step_ms: Optional[float] = None,
    ) -> bool:
        """Records step `step` (1-based, increasing) and, when it is due, writes its step event: the loss parts,
        δ/τ and similarity distributions, collapse indicators and verdict. Pass what a loss module returned
        (`out`), or the raw query and item embeddings q, v [B, D] (with their item ids) to be scored with the
        Lens's loss settings. `step_ms` defaults to the wall-clock time per step since the previous call.
        Raises NonFiniteLoss when the loss is NaN or ±Infinity (the run then ends failed, naming it).
        Returns whether a step event was written."""
        if step <= self.step:
            raise ValueError(f"log: step {step} is not after the last logged step {self.step}")
        now = time.perf_counter()
        if step_ms is None and self._last_log is not None:
            step_ms = (now - self._last_log[0]) * 1000 / (step - self._last_log[1])
        self._last_log = (now, step)
        if self.writer is None:
            self.step = step
            return False
        written = False
        if self.due(step):
            if out is None:
                if q is None or v is None:
                    raise ValueError("log: pass a loss module's output, or both q and v")
                with torch.no_grad():
                    qn, vn = F.normalize(q.detach().float(), dim=-1), F.normalize(v.detach().float(), dim=-1)
                    out = batch_loss(qn, vn, None, list(ids) if ids is not None else None, None, None, self.loss_config)
            parts = {"loss": float(out.loss), "loss_q": float(out.loss_q), "loss_sym": float(out.loss_sym)}
            for quantity, value in parts.items():
                if not math.isfinite(value):
                    raise NonFiniteLoss(step, quantity, value)
            with_rank = step == 1 or step % self.effective_rank_every == 0 or step == self.total_steps
            diag = batch_diagnostics(out, with_rank)
            verdict = self._monitor.update(diag, step)
            event = step_event(
                step, epoch, parts["loss"], parts["loss_q"], parts["loss_sym"], lr, grad_norm, step_ms, out.q.shape[0] * out.world, diag, verdict
            )
            with self._lock:
                self.writer.append_event(event)
            written = True
        with self._lock:
            self.writer.heartbeat(step)
        self.step = step
        return written

    def log_scalars(self, step: int, values: Mapping[str, Any]) -> None:
        """Your own numbers at `step` (learning rate, gradient norm, anything) as a `scalars` event (docs/run-format.md
        §4.7; the dashboard does not chart them yet). Names are non-empty strings; values numbers (a NaN or ±Infinity is written null)."""
        clean: Dict[str, Optional[float]] = {}
        for k, x in values.items():
            if not isinstance(k, str) or not k:
                raise TypeError(f"log_scalars: names must be non-empty strings, got {k!r}")
            clean[k] = _number(x, f"log_scalars: {k}")
        if self.writer is None:
            return
        with self._lock:
            self.writer.append_event({"type": "scalars", "step": step, "values": clean})

    # ---- evaluation ----

    def evaluate(self, encode_queries: Encoder, encode_items: Encoder, test: Optional[str] = None, batch_size: int = 256) -> Optional[Dict[str, Any]]:
        """Encodes the test queries and the corpus (data.test / data.corpus of the Lens, or `test`) with your
        encoders (a list of texts → [n, D] embeddings), writes them to `<run>/embeddings/` and runs
        `retrieval-lens eval <run> --embeddings <run>/embeddings`: exact + IVF-PQ + BM25 metrics
        (eval/metrics.json) and the failing queries (eval/failures.jsonl). Returns the metrics entry (None on
        ranks other than 0). Raises RuntimeError with the evaluator's located message when it fails."""
        if self.rank != 0 or self.dir is None:
            return None
        if test is None and "test" not in self.experiment["data"]:
            raise ValueError("evaluate: no test data: pass test=… or give Lens data={'test': …}")
        es = load_eval_set(self.experiment["data"], lambda p: p, os.path.abspath(test) if test is not None else None)
        queries = _encode(encode_queries, es.query_texts, batch_size, "encode_queries")
        items = _encode(encode_items, [it.text for it in es.corpus], batch_size, "encode_items")
        folder = os.path.join(self.dir, EMBEDDINGS_DIR)
        step = self.step

        def write(d: str) -> None:
            np.save(os.path.join(d, "queries.npy"), queries)
            np.save(os.path.join(d, "items.npy"), items)
            for name, ids in (("queries.ids.json", es.query_ids), ("items.ids.json", [it.id for it in es.corpus])):
                with open(os.path.join(d, name), "w", encoding="utf-8") as f:
                    json.dump(ids, f, ensure_ascii=False)
            write_json_atomic(os.path.join(d, "embeddings.json"), {"step": step})

        write_dir_atomically(folder, write)
        args = ["node", CLI, "eval", self.dir, "--embeddings", folder] + (["--data", os.path.abspath(test)] if test is not None else [])
        p = subprocess.run(args, capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError(f"retrieval-lens eval --embeddings failed (exit {p.returncode}): {(p.stderr.strip() or p.stdout.strip())[-2000:]}")
        with open(os.path.join(self.dir, "eval", "metrics.json"), encoding="utf-8") as f:
            entry: Dict[str, Any] = json.load(f)["evaluations"][-1]
        return entry


def _encode(encode: Encoder, texts: List[str], batch_size: int, name: str) -> np.ndarray:
    """float32 [len(texts), D] from the encoder, called on batches without gradients."""
    parts: List[np.ndarray] = []
    with torch.no_grad():
        for s in range(0, len(texts), batch_size):
            chunk = texts[s : s + batch_size]
            e = encode(chunk)
            a = e.detach().float().cpu().numpy() if isinstance(e, torch.Tensor) else np.asarray(e, dtype=np.float32)
            if a.ndim != 2 or a.shape[0] != len(chunk):
                raise ValueError(f"{name} returned shape {list(a.shape)} for {len(chunk)} texts (rows {s}–{s + len(chunk) - 1}); expected [{len(chunk)}, D]")
            parts.append(a.astype(np.float32, copy=False))
    return np.concatenate(parts, 0) if parts else np.zeros((0, 0), dtype=np.float32)

