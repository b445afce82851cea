"""data.maxBadLineShare over all ranks (SharedBadLineShare, data/stream.py), 2 gloo ranks with real processes: a file
of fewer lines than one block is read by both ranks, rank r keeping every other line, so bad lines on odd lines all
land on rank 0. The rule is over the data set, as the TypeScript trainer and one process apply it: rank 0's own share
over the limit with the data set under it trains; the data set over it fails with one process's exact message."""

import json
import os
import re
import subprocess
import sys

from conftest import launch_env
from test_torchrun_data import SHOP, config, run


def file_with_bad_odd_lines(path, n_lines, n_bad) -> None:
    """The first n_lines of the shop example; lines 1, 3, 5, … (rank 0's of 2) up to n_bad of them not JSON."""
    with open(SHOP, encoding="utf-8") as f:
        lines = [next(f) for _ in range(n_lines)]
    for i in range(n_bad):
        lines[2 * i] = "{not json\n"
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(lines)


def test_rank_zero_over_the_share_with_the_data_set_under_it_trains(tmp_path) -> None:
    # 10 bad of 250 lines: 4% of the data set, 8% of rank 0's 125 lines (the per-rank check refused it).
    file_with_bad_odd_lines(tmp_path / "pairs.jsonl", 250, 10)
    code, meta, evs, err = run(tmp_path, config(tmp_path, "pairs.jsonl"), 3)
    assert code == 0, err[-3000:]
    assert meta["status"] == "completed", meta


def test_the_data_set_over_the_share_fails_on_two_ranks_with_the_message_of_one_process(tmp_path) -> None:
    # 20 bad of 250 lines: 8% of the data set (16% of rank 0's lines, 0% of rank 1's).
    file_with_bad_odd_lines(tmp_path / "pairs.jsonl", 250, 20)
    cfg = config(tmp_path, "pairs.jsonl")
    code, meta, _, err = run(tmp_path, cfg, 3)
    assert code == 1 and meta["status"] == "failed", err[-3000:]
    message = meta["error"]["message"]
    assert re.fullmatch(r"20 of 250 lines \(8\.0%\) in .*/pairs\.jsonl are malformed, more than data\.maxBadLineShare 5%; first: line 1: invalid JSON: .*", message), message
    one = subprocess.run(
        [sys.executable, "-m", "retrieval_lens.train", cfg, "--out", str(tmp_path / "one"), "--steps", "3", "--set", "training.batchSize=32", "--set", "model.vocabBuckets=4096"],
        env=launch_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert one.returncode == 1, one.stderr[-3000:]
    (name,) = os.listdir(tmp_path / "one")
    with open(tmp_path / "one" / name / "meta.json", encoding="utf-8") as f:
        assert json.load(f)["error"]["message"] == message
