"""Step samples and suspected false negatives: the PyTorch side (retrieval_lens.step_samples) gives exactly what the
TypeScript side gave for the fixture cases (test/fixtures/parity/stepSamples.json, test/unit/stepSamples.test.ts),
finds the planted duplicates and nothing in the clean batch, and negative_mask honours data.maskDuplicateNegatives."""

import json

import pytest
import torch

from parity_fixtures import load
from retrieval_lens.losses import negative_mask
from retrieval_lens.step_samples import sample_step

FIXTURE = load("stepSamples.json")


def run(c):
    rows = lambda m: [m[j * c["N"] : (j + 1) * c["N"]] for j in range(c["B"])]  # noqa: E731
    f32 = lambda m: torch.tensor(rows(m), dtype=torch.float32)  # noqa: E731
    return sample_step(c["step"], c["B"], c["N"], f32(c["sQV"]), f32(c["sVV"]), f32(c["negMask"]), f32(c["hyper"]), [tuple(q) for q in c["queries"]], [tuple(i) for i in c["items"]], c["itemTexts"])


@pytest.mark.parametrize("case", FIXTURE["cases"], ids=[c["name"] for c in FIXTURE["cases"]])
def test_samples_match_the_typescript_sampler(case):
    samples, suspected = run(case)
    want = FIXTURE["expected"][case["name"]]
    assert json.loads(json.dumps(samples)) == want["samples"]
    assert suspected == want["suspected"]
    assert len(json.dumps(samples, separators=(",", ":"), ensure_ascii=False).encode()) <= 4096


def test_planted_duplicates_are_found_and_the_clean_batch_gives_none():
    cases = {c["name"]: c for c in FIXTURE["cases"]}
    assert run(cases["planted"])[1]["count"] == 5
    assert run(cases["clean"])[1] == {"count": 0, "share": 0}


def test_negative_mask_masks_same_text_negatives_only_with_text_keys():
    ids, neg_ids = ["a", "b", "c"], ["n"]
    off = negative_mask(ids, 3, 0, 3, neg_ids, [2], 1)
    keys = ["red shirt", "red shirt", "blue jeans"]
    on = negative_mask(ids, 3, 0, 3, neg_ids, [2], 1, text_keys=keys, neg_text_keys=["blue jeans"])
    assert [bool(off[0, 1]), bool(off[1, 0]), bool(off[2, 3])] == [True, True, True]
    assert [bool(on[0, 1]), bool(on[1, 0]), bool(on[2, 3]), bool(on[0, 2]), bool(on[2, 0])] == [False, False, False, True, True]


def test_a_step_event_with_samples_matches_the_run_format_schema():
    import numpy as np
    from retrieval_lens.run_writer import step_event
    from retrieval_lens.verdict import CollapseMonitor
    from test_run_format import diagnostics_of_a_batch, problems, validator

    diag = diagnostics_of_a_batch(np.random.default_rng(3), 1)
    event = step_event(1, 0, 1.0, 0.9, 0.1, 0.01, 0.5, 12.5, 8, diag, CollapseMonitor({}, total_steps=1).update(diag, 1))
    samples, suspected = run(FIXTURE["cases"][0])
    event.update({"v": 2, "time": "2026-01-01T00:00:00Z", "samples": samples, "suspectedFalseNegatives": suspected})
    assert problems(validator("step"), event) == []
    event["samples"]["rows"][0]["q"] = ["q", 0]
    assert problems(validator("step"), event) != []
