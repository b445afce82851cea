"""RunWriter: one run folder in the documented format (docs/run-format.md; the TypeScript writer is
src/core/runs/runWriter.ts). config.json and meta.json are replaced atomically (temp file, fsync,
rename), events.jsonl is append-only with one write per complete line, checkpoint folders are swapped
in atomically. Only rank 0 of a distributed job creates a RunWriter.

Status as the TypeScript writer leaves it: `end` is appended before the final meta.json, so a writer
killed in between still reads as ended; a killed writer leaves status "running" with its pid, which
readers show as "crashed" (every complete event line stays readable); a caught error ends "failed"
with {message, step, quantity?}.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import socket
import time
import unicodedata
import re
import uuid
from datetime import datetime, timezone
from typing import Any, Callable, Dict, Optional

from .schemas import run_events_schema

#: meta.json's formatVersion and the `v` of every event line: those of schemas/run-events.schema.json
#: (generated from src/core/runs/eventSchema.ts), so that both writers write the same versions.
RUN_FORMAT_VERSION: int = run_events_schema()["runFormatVersion"]
EVENT_SCHEMA_VERSION: int = run_events_schema()["eventSchemaVersion"]
SPACE_RESERVE_FILE = ".space-reserve"
SPACE_RESERVE_BYTES = 4096
HEARTBEAT_SECONDS = 5.0
MAX_SLUG_LENGTH = 60
# Longest free text of an event (a log message, an end event's error message); longer ones are cut and
# say so, as src/core/runs/eventLine.ts does (MAX_EVENT_TEXT_CHARS, boundText).
MAX_EVENT_TEXT_CHARS = 16 * 1024


def bound_text(text: str) -> str:
    """`text` unchanged when at most MAX_EVENT_TEXT_CHARS long, else its start and how much was cut."""
    if len(text) <= MAX_EVENT_TEXT_CHARS:
        return text
    return f"{text[:MAX_EVENT_TEXT_CHARS]} … [cut: {len(text)} characters, the first {MAX_EVENT_TEXT_CHARS} kept]"


def bound_event(event: Dict) -> Dict:
    """An event with its free texts bounded: the log message and the end event's error message."""
    if event.get("type") == "log" and isinstance(event.get("message"), str):
        return {**event, "message": bound_text(event["message"])}
    err = event.get("error")
    if event.get("type") == "end" and isinstance(err, dict) and isinstance(err.get("message"), str):
        return {**event, "error": {**err, "message": bound_text(err["message"])}}
    return event


def now_iso() -> str:
    """UTC time with milliseconds and a Z suffix (JavaScript's toISOString)."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def finite(x: Any) -> Any:
    """JSON has no NaN/Infinity: non-finite numbers become null, anywhere."""
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {k: finite(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [finite(v) for v in x]
    return x


def slugify(name: str) -> str:
    """NFKD, drop combining accents, lower-case, runs of [^a-z0-9] → '-', trimmed, ≤ 60 chars ('run' if empty)."""
    s = unicodedata.normalize("NFKD", name)
    s = re.sub("[\u0300-\u036f]", "", s).lower()
    s = re.sub("[^a-z0-9]+", "-", s).strip("-")[:MAX_SLUG_LENGTH].rstrip("-")
    return s or "run"


def write_json_atomic(path: str, obj: Any, indent: Optional[int] = 2) -> None:
    """Temp file in the same folder, fsync, rename over `path` (a reader never sees half a file)."""
    d = os.path.dirname(path)
    tmp = os.path.join(d, f".{os.path.basename(path)}.{os.getpid()}.{uuid.uuid4().hex}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(finite(obj), f, indent=indent, allow_nan=False, ensure_ascii=False)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def append_metrics_entry(run_dir: str, entry: Dict, log: Optional[Callable[[str], None]] = None) -> str:
    """Appends one evaluation to <run>/eval/metrics.json ({"v": 1, "evaluations": [...]}, rewritten atomically), as
    appendMetricsEntry (src/core/eval/evalOutputs.ts): a file that cannot be used is moved aside, never overwritten,
    and said through `log`; the evaluations then start afresh. Returns the file's path."""
    d = os.path.join(run_dir, "eval")
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, "metrics.json")
    evaluations: list = []
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        if not isinstance(doc, dict) or doc.get("v") != 1 or not isinstance(doc.get("evaluations"), list):
            raise ValueError("not a version-1 metrics file")
        evaluations = [e for e in doc["evaluations"] if isinstance(e, dict) and isinstance(e.get("step"), (int, float))]
    except FileNotFoundError:
        pass
    except (OSError, ValueError) as e:
        aside = f"{path}.unreadable-{int(time.time() * 1000)}"
        os.replace(path, aside)
        if log is not None:
            log(f"{path} could not be read ({e}); kept as {aside}, starting a new one")
    write_json_atomic(path, {"v": 1, "evaluations": [*evaluations, entry]})
    return path


def create_run_dir(root: str, name: str, start: datetime) -> str:
    """<root>/<YYYYMMDD-HHMMSS>-<slug>[-n] with a non-recursive mkdir (two jobs never share a folder)."""
    root = os.path.abspath(root)
    os.makedirs(root, exist_ok=True)
    base = f"{start.strftime('%Y%m%d-%H%M%S')}-{slugify(name)}"
    for n in range(1, 10000):
        d = os.path.join(root, base if n == 1 else f"{base}-{n}")
        try:
            os.mkdir(d)
            return d
        except FileExistsError:
            continue
    raise OSError(f"cannot create a run folder {base} in {root}: 9999 exist")


def recover_dir(final: str) -> None:
    """Recovery rule of §5.3: a complete <final> wins, else <final>.old is renamed back; temp folders go."""
    parent, base = os.path.split(final)
    old = final + ".old"
    if os.path.isdir(final):
        shutil.rmtree(old, ignore_errors=True)
    elif os.path.isdir(old):
        os.rename(old, final)
    for entry in os.listdir(parent) if os.path.isdir(parent) else []:
        if entry.startswith(base + ".tmp-"):
            shutil.rmtree(os.path.join(parent, entry), ignore_errors=True)


def write_dir_atomically(final: str, write: Callable[[str], None]) -> None:
    """Write a folder as a sibling temp folder, then swap it in (docs/run-format.md §5.3)."""
    os.makedirs(os.path.dirname(final), exist_ok=True)
    recover_dir(final)
    tmp = f"{final}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    os.mkdir(tmp)
    try:
        write(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = final + ".old"
    if os.path.isdir(final):
        os.rename(final, old)
    os.rename(tmp, final)
    shutil.rmtree(old, ignore_errors=True)


def summarize_config(config: Dict) -> Dict:
    """Top-level string, number and boolean fields of the config (the start event's summary)."""
    return {k: v for k, v in config.items() if isinstance(v, (str, bool)) or (isinstance(v, (int, float)) and math.isfinite(v))}


def step_event(
    step: int,
    epoch: int,
    loss: float,
    loss_q: float,
    loss_sym: float,
    lr: Optional[float],
    grad_norm: Optional[float],
    step_ms: Optional[float],
    examples: int,
    diagnostics: Dict,
    verdict: Dict,
    learned: Optional[Dict[str, float]] = None,
) -> Dict:
    """A logged step (definitions.step of schemas/run-events.schema.json; v, type and time are added by
    RunWriter.append_event): the losses, learning rate, gradient norm and speed of the step, its diagnostics
    (diagnostics.step_diagnostics, or step_event.batch_diagnostics from a loss module's output) and collapse verdict
    (verdict.CollapseMonitor.update). `examples` is the number of training pairs of the step (all ranks):
    examplesPerSec = examples · 1000 / stepMs (null without stepMs). Non-finite numbers become null when written.
    `learned`: the learned α / δ₀ / τ₀ after the step (loss.trainable). The one builder of the step event: the trainer
    and retrieval_lens.Lens use it."""
    return {
        "type": "step",
        "step": step,
        "epoch": epoch,
        "loss": loss,
        "lossQ": loss_q,
        "lossSym": loss_sym,
        "lr": lr,
        "gradNorm": grad_norm,
        "stepMs": step_ms,
        "examplesPerSec": examples * 1000 / step_ms if step_ms else None,
        "diagnostics": diagnostics,
        "verdict": verdict,
        **({"learned": learned} if learned else {}),
    }


class RunWriter:
    """Writes one run. `RunWriter.create`, then `heartbeat(step)` every step, `append_event`, `record_checkpoint`,
    and `finish(status, error)` once."""

    def __init__(self, dir_: str, meta: Dict):
        self.dir = dir_
        self.meta = meta
        self.events_path = os.path.join(dir_, "events.jsonl")
        self._fd = os.open(self.events_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        size = os.fstat(self._fd).st_size
        self._needs_newline = False
        if size > 0:
            with open(self.events_path, "rb") as f:
                f.seek(size - 1)
                self._needs_newline = f.read(1) != b"\n"
        self._last_meta_write = time.monotonic()
        self.finished = False

    @staticmethod
    def create(root: str, name: str, config: Dict, meta: Optional[Dict] = None, summary: Optional[Dict] = None) -> "RunWriter":
        """A new run folder: config.json, meta.json (with `meta`'s fields) and the start event, whose config summary
        is `summary` (default: the config's top-level scalars)."""
        start = datetime.now(timezone.utc)
        dir_ = create_run_dir(root, name, start)
        write_json_atomic(os.path.join(dir_, "config.json"), config)
        t = start.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        extra = dict(meta or {})
        versions = {"node": "none", "tfjs": "none", "retrievalLens": "unknown", **extra.pop("versions", {})}
        full = {
            "formatVersion": RUN_FORMAT_VERSION,
            "name": name,
            "configPath": None,
            "status": "running",
            "backend": "unknown",
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "startedAt": t,
            "heartbeatAt": t,
            "step": 0,
            "totalSteps": None,
            "checkpoints": {},
            **extra,
            "versions": versions,
        }
        write_json_atomic(os.path.join(dir_, "meta.json"), full)
        w = RunWriter(dir_, full)
        w.append_event({"type": "start", "config": summarize_config(config if summary is None else summary), "backend": full["backend"]})
        try:
            with open(os.path.join(dir_, SPACE_RESERVE_FILE), "wb") as f:
                f.write(bytes(SPACE_RESERVE_BYTES))
        except OSError:
            pass
        return w

    def append_event(self, event: Dict) -> None:
        """Append one event as one complete line (v, type, time first); a step event advances meta.step."""
        if self.finished:
            raise RuntimeError(f"RunWriter: run {self.dir} is already finished")
        event = bound_event(event)
        e = {"v": EVENT_SCHEMA_VERSION, "type": event["type"], "time": event.get("time") or now_iso()}
        e.update({k: v for k, v in event.items() if k not in e})
        line = ("\n" if self._needs_newline else "") + json.dumps(finite(e), allow_nan=False, ensure_ascii=False, separators=(",", ":")) + "\n"
        data = line.encode("utf-8")
        off = 0
        try:
            while off < len(data):
                off += os.write(self._fd, data[off:])
        except OSError as err:
            if off > 0:
                self._needs_newline = True
            raise OSError(f"cannot append to {self.events_path}: {err}") from err
        self._needs_newline = False
        if e["type"] == "step" and e["step"] > self.meta["step"]:
            self.meta["step"] = e["step"]

    def _write_meta(self) -> None:
        write_json_atomic(os.path.join(self.dir, "meta.json"), self.meta)
        self._last_meta_write = time.monotonic()

    def update_meta(self, patch: Dict) -> None:
        self.meta.update(patch)
        self.meta["heartbeatAt"] = patch.get("heartbeatAt", now_iso())
        self._write_meta()

    def heartbeat(self, step: int) -> bool:
        """Record `step`; rewrite meta.json only if 5 s passed since the last write."""
        self.meta["step"] = step
        if time.monotonic() - self._last_meta_write < HEARTBEAT_SECONDS:
            return False
        self.meta["heartbeatAt"] = now_iso()
        self._write_meta()
        return True

    def record_checkpoint(self, kind: str, ref: Dict) -> None:
        """Append the checkpoint event (after the folder swap) and record it in meta.checkpoints."""
        self.append_event({"type": "checkpoint", "kind": kind, **ref})
        self.update_meta({"checkpoints": {**self.meta["checkpoints"], kind: dict(ref)}})

    def finish(self, status: str, error: Optional[Dict] = None) -> list:
        """Append `end`, then write the final meta.json; returns the messages of writes that failed."""
        failures = []
        try:
            os.unlink(os.path.join(self.dir, SPACE_RESERVE_FILE))
        except OSError:
            pass
        end = {"type": "end", "status": status, "step": self.meta["step"], **({"error": error} if error else {})}
        try:
            self.append_event(end)
        except OSError as e:
            failures.append(str(e))
        self.finished = True
        t = now_iso()
        if error and isinstance(error.get("message"), str):
            error = {**error, "message": bound_text(error["message"])}
        self.meta.update(status=status, endedAt=t, heartbeatAt=t, **({"error": error} if error else {}))
        try:
            self._write_meta()
        except OSError as e:
            failures.append(f"cannot write {self.dir}/meta.json: {e}")
        os.close(self._fd)
        return failures
