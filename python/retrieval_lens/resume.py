"""Resuming a PyTorch run from its `checkpoints/last` (`python -m retrieval_lens.train CONFIG --resume RUN`).

Besides the weights (model.json + weights.bin, docs/run-format.md §7) the trainer writes into `checkpoints/last`:
- `resume.json`: the step, the data position (train_data.TrainingData.position_record: every rank's
  (epoch, pairs read of that epoch) and the world size, seed and data size it belongs to) and the best-checkpoint
  scores, so that a resumed run continues the step count, the data order and the `best` rule;
- `optimizer.pt`: the optimizers' state tensors (Adam moments and step counts) as one {"<optimizer>/<param>/<name>":
  tensor} dict, read back with torch.load(weights_only=True): tensors only, no pickled code; their
  hyper-parameters (param_groups) and any non-tensor state are in resume.json "optimizer";
- the learned α / δ₀ / τ₀ of `loss.trainable` (losses.LearnedHyper): resume.json "learned" {"theta": {name: θ},
  "paramGroups", "scalars"} with their Adam's state tensors in optimizer.pt under "learned/<param>/<name>" (absent
  when nothing is learned), so a resumed run continues from the learned values, not the config's.
A checkpoint without them (written by the TypeScript trainer or before resume existed) cannot be resumed.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

import torch

RESUME_FORMAT = "retrieval-lens-resume/1"


class ResumeError(Exception):
    """A run that cannot be resumed, with the file (and JSON path) that says why."""


@dataclass
class LearnedState:
    """The learned hyper-parameters of a checkpoint: θ by name and their Adam's state dict."""

    theta: Dict[str, float]
    optimizer: Dict[str, Any]


@dataclass
class ResumeState:
    dir: str  # the checkpoint folder
    step: int
    data: Dict[str, Any]
    scores: Dict[str, Any]
    optimizers: List[Dict[str, Any]]
    weights: Dict[str, torch.Tensor]
    model: Dict[str, Any]
    learned: Optional[LearnedState] = None


def _split_optimizers(optimizers: List[Dict[str, Any]]) -> Tuple[Dict[str, torch.Tensor], Dict[str, Any]]:
    """Optimizer state dicts → ({key: tensor}, the JSON rest: param_groups and non-tensor state values)."""
    tensors: Dict[str, torch.Tensor] = {}
    rest: Dict[str, Any] = {"paramGroups": [], "scalars": {}}
    for i, sd in enumerate(optimizers):
        rest["paramGroups"].append(sd["param_groups"])
        for pid, st in sd["state"].items():
            for k, v in st.items():
                key = f"{i}/{pid}/{k}"
                if isinstance(v, torch.Tensor):
                    tensors[key] = v.detach().cpu()
                else:
                    rest["scalars"][key] = v
    return tensors, rest


def _join_optimizers(tensors: Dict[str, torch.Tensor], rest: Dict[str, Any]) -> List[Dict[str, Any]]:
    out: List[Dict[str, Any]] = [{"state": {}, "param_groups": g} for g in rest["paramGroups"]]
    for key, v in [*tensors.items(), *rest["scalars"].items()]:
        i, pid, k = key.split("/", 2)
        out[int(i)]["state"].setdefault(int(pid), {})[k] = v
    return out


LEARNED_PREFIX = "learned/"
_SYMBOLS = {"alpha": "α", "delta0": "δ₀", "tau0": "τ₀"}


def write_resume_files(
    dir_: str, step: int, data: Dict[str, Any], scores: Dict[str, Any], optimizers: List[Dict[str, Any]], learned: Optional[LearnedState] = None
) -> None:
    """resume.json and optimizer.pt into the checkpoint folder being written (swapped in atomically by the caller)."""
    tensors, rest = _split_optimizers(optimizers)
    learned_doc: Optional[Dict[str, Any]] = None
    if learned is not None:
        l_tensors, l_rest = _split_optimizers([learned.optimizer])
        tensors.update({LEARNED_PREFIX + k.split("/", 1)[1]: v for k, v in l_tensors.items()})
        learned_doc = {"theta": learned.theta, "paramGroups": l_rest["paramGroups"][0], "scalars": {k.split("/", 1)[1]: v for k, v in l_rest["scalars"].items()}}
    with open(os.path.join(dir_, "optimizer.pt"), "wb") as f:
        torch.save(tensors, f)
        f.flush()
        os.fsync(f.fileno())
    doc = {"format": RESUME_FORMAT, "step": step, "data": data, "scores": scores, "optimizer": {"tensors": "optimizer.pt", **rest}}
    if learned_doc is not None:
        doc["learned"] = learned_doc
    with open(os.path.join(dir_, "resume.json"), "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1)
        f.flush()
        os.fsync(f.fileno())


def _require(cond: bool, where: str, what: str) -> None:
    if not cond:
        raise ResumeError(f"{where}: {what}")


def read_resume(run_dir: str) -> ResumeState:
    """The state to resume `run_dir` from (its checkpoints/last), or a ResumeError naming the file and field."""
    from .model import load_checkpoint

    ckpt = os.path.join(os.path.abspath(run_dir), "checkpoints", "last")
    if not os.path.isdir(ckpt) and os.path.isdir(ckpt + ".old"):
        ckpt += ".old"  # killed mid-swap (docs/run-format.md §5.3): the previous complete checkpoint, read in place
    path = os.path.join(ckpt, "resume.json")
    if not os.path.isdir(ckpt):
        raise ResumeError(f"{ckpt}: no last checkpoint in this run folder (nothing to resume)")
    if not os.path.exists(path):
        raise ResumeError(f"{path}: missing — this checkpoint holds weights only (written by the TypeScript trainer or an older version) and cannot be resumed")
    if os.path.getsize(path) > 16 << 20:
        raise ResumeError(f"{path}: larger than 16 MB, not a resume state")
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        raise ResumeError(f"{path}: cannot be read: {e}") from None
    _require(isinstance(doc, dict) and doc.get("format") == RESUME_FORMAT, path, f"$.format is not {RESUME_FORMAT!r}")
    step: Any = doc.get("step")
    _require(isinstance(step, int) and step >= 1, path, "$.step is not a positive integer")
    data: Any = doc.get("data")
    _require(isinstance(data, dict) and data.get("kind") in ("stream", "memory"), path, '$.data.kind is not "stream" or "memory"')
    ranks: Any = data.get("ranks")
    ok = isinstance(ranks, list) and len(ranks) >= 1 and all(isinstance(r, list) and len(r) == 2 and all(isinstance(x, int) and x >= 0 for x in r) for r in ranks)
    _require(ok, path, "$.data.ranks is not a list of [epoch, pairs] pairs of non-negative integers")
    _require(isinstance(data.get("worldSize"), int) and data["worldSize"] == len(ranks), path, "$.data.worldSize does not match $.data.ranks")
    scores: Any = doc.get("scores")
    _require(isinstance(scores, dict), path, "$.scores is not an object")
    opt_path = os.path.join(ckpt, "optimizer.pt")
    rest: Any = doc.get("optimizer")
    ok = isinstance(rest, dict) and isinstance(rest.get("paramGroups"), list) and isinstance(rest.get("scalars"), dict)
    _require(ok, path, "$.optimizer has no paramGroups list and scalars object")
    try:
        with open(opt_path, "rb") as f:
            tensors = torch.load(f, map_location="cpu", weights_only=True)
        _require(isinstance(tensors, dict) and all(isinstance(v, torch.Tensor) for v in tensors.values()), opt_path, "not a dict of tensors")
        learned_tensors = {k[len(LEARNED_PREFIX) :]: v for k, v in tensors.items() if k.startswith(LEARNED_PREFIX)}
        optimizers = _join_optimizers({k: v for k, v in tensors.items() if not k.startswith(LEARNED_PREFIX)}, rest)
    except ResumeError:
        raise
    except FileNotFoundError:
        raise ResumeError(f"{opt_path}: missing (resume.json names it)") from None
    except Exception as e:  # noqa: BLE001 - an unreadable or hostile file: say which
        raise ResumeError(f"{opt_path}: cannot be read as optimizer state: {e}") from None
    try:
        model, info = load_checkpoint(ckpt)
    except (OSError, ValueError, KeyError) as e:
        raise ResumeError(f"{ckpt}: the weights cannot be read: {e}") from None
    _require(info.get("step") == step, os.path.join(ckpt, "model.json"), f"$.checkpoint.step {info.get('step')} differs from resume.json's step {step}")
    return ResumeState(ckpt, step, data, scores, optimizers, model.state_dict(), info["model"], _read_learned(doc.get("learned"), learned_tensors, path))


def _read_learned(doc: Any, tensors: Dict[str, torch.Tensor], path: str) -> Optional[LearnedState]:
    """resume.json's "learned" (None when absent: nothing learned, or written before it was stored)."""
    if doc is None:
        return None
    _require(isinstance(doc, dict), path, "$.learned is not an object")
    theta: Any = doc.get("theta")
    ok = isinstance(theta, dict) and all(k in ("alpha", "delta0", "tau0") and isinstance(v, (int, float)) and math.isfinite(v) for k, v in theta.items())
    _require(ok, path, "$.learned.theta is not an object of finite numbers named alpha, delta0 or tau0")
    groups: Any = doc.get("paramGroups")
    _require(isinstance(groups, list) and len(groups) == len(theta), path, "$.learned.paramGroups does not have one group per learned value")
    _require(isinstance(doc.get("scalars"), dict), path, "$.learned.scalars is not an object")
    (optimizer,) = _join_optimizers({"0/" + k: v for k, v in tensors.items()}, {"paramGroups": [groups], "scalars": {"0/" + k: v for k, v in doc["scalars"].items()}})
    return LearnedState({k: float(v) for k, v in theta.items()}, optimizer)


def carry_best_checkpoint(old_run: str, new_run: str) -> Optional[Dict[str, Any]]:
    """Copies the resumed run's checkpoints/best into the new run folder (so `retrieval-lens eval --checkpoint best`
    of the new run sees the best weights of the whole training); returns its meta.json reference, or None."""
    import shutil

    from .run_writer import write_dir_atomically

    try:
        with open(os.path.join(old_run, "meta.json"), encoding="utf-8") as f:
            ref = json.load(f).get("checkpoints", {}).get("best")
    except (OSError, ValueError, AttributeError):
        return None
    src = os.path.join(old_run, "checkpoints", "best")
    if not isinstance(ref, dict) or not os.path.isdir(src):
        return None

    def copy(d: str) -> None:
        for name in ("model.json", "weights.bin"):
            shutil.copyfile(os.path.join(src, name), os.path.join(d, name))

    write_dir_atomically(os.path.join(new_run, "checkpoints", "best"), copy)
    return {**ref, "path": "checkpoints/best"}


def learned_state(learned: Any, learned_opt: Optional[torch.optim.Optimizer]) -> Optional[LearnedState]:
    """What a checkpoint stores of losses.LearnedHyper (None when nothing is learned)."""
    if learned_opt is None:
        return None
    return LearnedState({n: float(p.detach()) for n, p in learned.theta.items()}, learned_opt.state_dict())


def restore_learned(learned: Any, learned_opt: Optional[torch.optim.Optimizer], state: Optional[LearnedState]) -> List[str]:
    """Sets each learned θ of this run that the checkpoint holds to the checkpoint's, with its Adam state when the
    checkpoint learned the same values (in the same order); the learning rates stay this run's config's. Returns
    the log lines saying what was carried over and what starts from the config."""

    def fmt(name: str, value: float) -> str:
        return f"{_SYMBOLS[name]} {value:.4g}"

    names = list(learned.theta.keys())
    if state is None:
        return [f"the checkpoint holds no learned values (nothing learned, or written before they were stored): {', '.join(fmt(n, v) for n, v in learned.floats().items())} start from the config"] if names else []
    notes: List[str] = []
    with torch.no_grad():
        for n in names:
            if n in state.theta:
                learned.theta[n].fill_(state.theta[n])
    carried = [n for n in names if n in state.theta]
    fresh = [n for n in names if n not in state.theta]
    dropped = [n for n in state.theta if n not in names]
    values = learned.floats()
    if carried:
        same = learned_opt is not None and list(state.theta.keys()) == names
        if learned_opt is not None and same:
            lrs = [g["lr"] for g in learned_opt.param_groups]
            learned_opt.load_state_dict(state.optimizer)
            for g, lr in zip(learned_opt.param_groups, lrs, strict=True):
                g["lr"] = lr
        how = "with their Adam state" if same else "their Adam state restarts (the checkpoint learned other values)"
        notes.append(f"learned values from the checkpoint: {', '.join(fmt(n, values[n]) for n in carried)} ({how})")
    if fresh:
        notes.append(f"not learned in the checkpoint, from the config: {', '.join(fmt(n, values[n]) for n in fresh)}")
    if dropped:
        notes.append(f"learned in the checkpoint but not in this run's loss.trainable: {', '.join(dropped)} (the config's constant is used)")
    return notes
