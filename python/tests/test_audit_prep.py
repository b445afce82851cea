"""data.audit and data.positiveText "corpus" in the PyTorch trainer, on the planted audit fixture
(test/fixtures/audit/planted): the audit line the launcher wrote (torchrunPrep.ts) is logged as it is, started alone
the trainer says what to run instead, and a bad --audit file is a located error; with positiveText "corpus" the
batches' positives whose id the corpus has are its items (text and corpus line), the others keep their lines.
The parity with the built-in trainer on whole runs: test/integration/torchrunAudit.test.ts."""

import json
import os
import shutil

import pytest

from conftest import REPO
from retrieval_lens.config import load_config
from retrieval_lens.data import DataError
from retrieval_lens.train import MAX_AUDIT_LINE_BYTES, audit_line
from retrieval_lens.train_data import TrainingData, corpus_positives

PLANTED = os.path.join(REPO, "test", "fixtures", "audit", "planted")


def planted(tmp_path, **data):
    for f in ("train.jsonl", "test.jsonl", "corpus.jsonl"):
        shutil.copy(os.path.join(PLANTED, f), tmp_path / f)
    config = tmp_path / "audit.rlens.json"
    config.write_text(json.dumps({"name": "audit", "data": {"train": "train.jsonl", "test": "test.jsonl", "corpus": "corpus.jsonl", **data}}))
    return str(config)


def test_the_audit_line_of_the_launcher_is_logged_as_written_and_started_alone_the_trainer_says_what_to_run(tmp_path):
    cfg = load_config(planted(tmp_path, audit=True), [])
    line = tmp_path / "audit.txt"
    line.write_text("data.audit: audit of 13 pairs: 1 duplicate pairs (same normalised query and positive id)\n")
    assert audit_line(cfg, str(line)) == ("info", "data.audit: audit of 13 pairs: 1 duplicate pairs (same normalised query and positive id)")
    alone = audit_line(cfg, None)
    assert alone is not None and alone[0] == "warn" and "retrieval-lens audit <config>" in alone[1]
    assert audit_line(load_config(planted(tmp_path), []), str(line)) is None, "data.audit off: nothing logged"
    line.write_bytes(b"x" * (MAX_AUDIT_LINE_BYTES + 1))
    with pytest.raises(DataError, match=rf"--audit {line}: more than {MAX_AUDIT_LINE_BYTES} bytes"):
        audit_line(cfg, str(line))
    with pytest.raises(DataError, match=r"--audit .*missing\.txt: cannot read the launcher's audit line"):
        audit_line(cfg, str(tmp_path / "missing.txt"))


def test_positive_text_corpus_trains_positives_on_their_corpus_items_and_line_keeps_the_lines(tmp_path):
    def positives(config):
        data = TrainingData(load_config(config, []), config, 0, 1, 13)
        try:
            batch, _ = next(data.batches())
        finally:
            data.close()
        return {e.positive.id: (e.positive.text, os.path.basename(e.positive.file), e.positive.line) for e in batch}, data.positive_text_note

    line, note = positives(planted(tmp_path))
    assert note is None
    assert line["p2"][1] == "train.jsonl" and line["p4"] == ("Paris", "train.jsonl", 11)
    config = planted(tmp_path, positiveText="corpus")
    corpus, note = positives(config)
    assert note == f'data.positiveText "corpus": positives are trained on the text of their id in {tmp_path / "corpus.jsonl"} (3 items)'
    assert corpus["p2"] == ("Hat Blue wool hat", "corpus.jsonl", 2), "title + text, the corpus line"
    assert corpus["p4"] == ("Paris, capital of France", "corpus.jsonl", 3)
    assert corpus["p3"] == ("Shared thing", "train.jsonl", corpus["p3"][2]), "not in the corpus: the line's text"
    no_corpus = tmp_path / "no-corpus.rlens.json"
    no_corpus.write_text(json.dumps({"name": "x", "data": {"train": "train.jsonl", "positiveText": "corpus"}}))
    assert corpus_positives(load_config(str(no_corpus), []), str(no_corpus)) == (
        None,
        "data.positiveText \"corpus\": no corpus (set data.corpus, or data.test to a BEIR folder); positives keep their lines' texts",
    )
