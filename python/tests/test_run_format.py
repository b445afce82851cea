"""What the Python writer (retrieval_lens/run_writer.py) writes, checked against the run format's JSON Schema
(schemas/run-events.schema.json, generated from the TypeBox schemas of src/core/runs/eventSchema.ts): every
line of events.jsonl and meta.json of a run with real step diagnostics and verdicts (numpy, no torch), of
a failed run with non-finite values, and the constants the package takes from the schemas. No torch."""

import json
import math
import os

import jsonschema
import numpy as np
import pytest

from conftest import REPO
from retrieval_lens import run_writer, schemas, verdict
from retrieval_lens.diagnostics import hyper_range, step_diagnostics
from retrieval_lens.run_writer import RunWriter, step_event
from retrieval_lens.verdict import CollapseMonitor

RUN_EVENTS = json.load(open(os.path.join(REPO, "schemas", "run-events.schema.json"), encoding="utf-8"))
EXPERIMENT = json.load(open(os.path.join(REPO, "schemas", "experiment.schema.json"), encoding="utf-8"))
LOSS = {k: v["default"] for k, v in EXPERIMENT["properties"]["loss"]["properties"].items()}


def validator(definition: str = "") -> jsonschema.Draft7Validator:
    """A validator of an event line (any event type), or of one definition (e.g. "meta")."""
    schema = dict(RUN_EVENTS) if not definition else {**RUN_EVENTS, "oneOf": None, "$ref": f"#/definitions/{definition}"}
    schema = {k: v for k, v in schema.items() if v is not None}
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def problems(v: jsonschema.Draft7Validator, value) -> list:
    return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in v.iter_errors(value)]


def read_run(run_dir: str):
    with open(os.path.join(run_dir, "meta.json"), encoding="utf-8") as f:
        meta = json.load(f)
    with open(os.path.join(run_dir, "events.jsonl"), encoding="utf-8") as f:
        lines = f.read().split("\n")
    assert lines[-1] == "", "events.jsonl ends with a complete line"
    return meta, [json.loads(line) for line in lines[:-1]]


def check_run(run_dir: str):
    meta, events = read_run(run_dir)
    assert problems(validator("meta"), meta) == []
    line = validator()
    for i, e in enumerate(events):
        # The schema of the type the line names (located problems), and exactly one event type (oneOf).
        assert problems(validator(e["type"]), e) == [], f"events.jsonl line {i + 1}"
        assert problems(line, e) == [], f"events.jsonl line {i + 1}"
    return meta, events


def diagnostics_of_a_batch(rng: np.random.Generator, step: int) -> dict:
    """Real step diagnostics of a batch of 8 pairs with 4 explicit negatives (unit vectors, as the trainer's towers give)."""
    B, N, D = 8, 12, 16
    q = rng.normal(size=(B, D))
    v = q + rng.normal(scale=1.0 / step, size=(B, D))
    cand = np.concatenate([v, rng.normal(size=(N - B, D))])
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    cand /= np.linalg.norm(cand, axis=1, keepdims=True)
    mask = np.ones((B, N), dtype=np.float32)
    np.fill_diagonal(mask[:, :B], 0)
    kind, rng_ = hyper_range(LOSS)
    s_vv = cand[:B] @ cand.T
    hyper = LOSS["tau0"] * (1 + LOSS["alpha"] * (1 - s_vv))
    return step_diagnostics(q @ cand.T, s_vv, mask, hyper, kind, rng_, cand[:B], True)


def test_a_completed_run_matches_the_run_format_schema(tmp_path):
    w = RunWriter.create(
        str(tmp_path), "py run", {"name": "py run", "loss": LOSS}, {"backend": "torch-cpu", "totalSteps": 3, "versions": {"torch": "1.13", "python": "3.11"}}
    )
    monitor = CollapseMonitor({}, total_steps=3)
    rng = np.random.default_rng(7)
    w.append_event({"type": "log", "level": "info", "message": "DDP: 1 rank × batch 8"})
    for s in (1, 2, 3):
        diag = diagnostics_of_a_batch(rng, s)
        w.append_event(
            step_event(
                step=s,
                epoch=0,
                loss=1.0 / s,
                loss_q=0.9 / s,
                loss_sym=0.1 / s,
                lr=0.01,
                grad_norm=0.5,
                step_ms=12.5,
                examples=8,
                diagnostics=diag,
                verdict=monitor.update(diag, s),
            )
        )
        w.heartbeat(s)
    w.append_event({"type": "eval", "step": 3, "metrics": {"recall@10": 0.4, "mrr@10": 0.2, "queries": 50}})
    w.record_checkpoint("last", {"step": 3, "path": "checkpoints/last"})
    w.record_checkpoint("best", {"step": 3, "path": "checkpoints/best", "metric": "recall@10", "value": 0.4})
    assert w.finish("completed") == []
    meta, events = check_run(w.dir)
    assert [e["type"] for e in events] == ["start", "log", "step", "step", "step", "eval", "checkpoint", "checkpoint", "end"]
    assert {e["v"] for e in events} == {RUN_EVENTS["eventSchemaVersion"]}
    assert meta["formatVersion"] == RUN_EVENTS["runFormatVersion"] and meta["status"] == "completed" and meta["step"] == 3
    assert events[2]["diagnostics"]["dist"]["tau"]["count"] > 0 and events[2]["diagnostics"]["dist"]["delta"] is None


def test_a_failed_run_with_non_finite_values_matches_the_schema(tmp_path):
    w = RunWriter.create(str(tmp_path), "failing", {"name": "failing"}, {"backend": "torch-cpu", "totalSteps": 5})
    rng = np.random.default_rng(1)
    diag = diagnostics_of_a_batch(rng, 1)
    event = step_event(
        step=1,
        epoch=0,
        loss=math.nan,
        loss_q=math.inf,
        loss_sym=-math.inf,
        lr=0.01,
        grad_norm=math.nan,
        step_ms=3.0,
        examples=3,
        diagnostics=diag,
        verdict=CollapseMonitor({}, total_steps=5).update(diag, 1),
    )
    w.append_event(event)
    assert w.finish("failed", {"message": "the loss became NaN at step 2", "step": 2, "quantity": "loss"}) == []
    meta, events = check_run(w.dir)
    assert events[1]["loss"] is None and events[1]["lossQ"] is None and events[1]["gradNorm"] is None
    assert meta["status"] == "failed" and meta["error"]["quantity"] == "loss"
    assert events[-1] == {**events[-1], "type": "end", "status": "failed", "step": 1}


def test_the_schema_rejects_what_the_format_forbids():
    """The checks above can fail: lines the TypeScript reader rejects are rejected here too."""
    line = validator()
    start = {"v": 2, "type": "start", "time": "2026-01-01T00:00:00.000Z", "config": {}, "backend": "torch-cpu"}
    assert problems(line, start) == []
    assert problems(line, {**start, "type": "begin"}) != []
    assert problems(line, {k: v for k, v in start.items() if k != "backend"}) != []
    end = {"v": 2, "type": "end", "time": "2026-01-01T00:00:00.000Z", "status": "crashed", "step": 1}
    assert problems(line, end) != [], "crashed is derived by readers, never written"
    assert problems(validator("meta"), {"formatVersion": 1, "name": "x"}) != []


def test_the_package_takes_its_constants_from_the_schemas():
    assert run_writer.RUN_FORMAT_VERSION == RUN_EVENTS["runFormatVersion"]
    assert run_writer.EVENT_SCHEMA_VERSION == RUN_EVENTS["eventSchemaVersion"]
    collapse = EXPERIMENT["properties"]["diagnostics"]["properties"]["collapse"]["properties"]
    assert verdict.DEFAULT_COLLAPSE_THRESHOLDS == {k: v["default"] for k, v in collapse.items()}
    assert schemas.experiment_defaults("loss") == LOSS


def test_loss_config_has_every_loss_key_of_the_schema_with_its_default():
    pytest.importorskip("torch")
    from retrieval_lens.losses import LossConfig

    assert list(LossConfig.__dataclass_fields__) == list(LOSS)
    assert LossConfig().__dict__ == LOSS
