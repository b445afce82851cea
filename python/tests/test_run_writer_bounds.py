"""Event size is bounded at write time (issue 23, defect 6): a 20 MB log message is cut to
MAX_EVENT_TEXT_CHARS and says so, so it cannot hide the last step from readers that scan the end of
events.jsonl. The same bound as src/core/runs/eventLine.ts. Needs no torch."""

import json
import os
import tempfile

from retrieval_lens.run_writer import MAX_EVENT_TEXT_CHARS, RunWriter


def test_a_huge_log_message_and_error_are_cut_and_say_so():
    root = tempfile.mkdtemp(prefix="rlens-bound-")
    w = RunWriter.create(root, "bounds", {"name": "bounds"})
    w.append_event({"type": "log", "level": "info", "message": "x" * (20 * 1024 * 1024)})
    w.finish("failed", {"message": "y" * 300_000, "step": 1})
    lines = open(os.path.join(w.dir, "events.jsonl"), "rb").read().split(b"\n")
    assert max(len(line) for line in lines) < 2 * MAX_EVENT_TEXT_CHARS
    log = json.loads(lines[1])
    assert log["message"].startswith("x" * MAX_EVENT_TEXT_CHARS)
    assert log["message"].endswith(f"[cut: {20 * 1024 * 1024} characters, the first {MAX_EVENT_TEXT_CHARS} kept]")
    end = json.loads(lines[2])
    assert end["error"]["message"].endswith(f"[cut: 300000 characters, the first {MAX_EVENT_TEXT_CHARS} kept]")
    meta = json.load(open(os.path.join(w.dir, "meta.json")))
    assert len(meta["error"]["message"]) < 2 * MAX_EVENT_TEXT_CHARS
