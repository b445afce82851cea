"""Training data streamed per rank (retrieval_lens/data/stream.py) through the `.rlens-index` line index that the
TypeScript reader writes too: each language reads the other's cache (the checksum verified: a corrupt one is
rebuilt, saying why); over N ranks every pair of an epoch is read exactly once and each rank reads only its share
(plain blocks, gzip files); epochs are reshuffled and reproducible; a shard that disappears mid-epoch, a corrupt
`.gz` and an unknown record shape give the TypeScript reader's located messages."""

import gzip
import json
import os
import shutil
import subprocess
from collections import Counter

import pytest

from conftest import REPO
from retrieval_lens.data import DataError, StreamedExamples, load_examples, resolve_data_files
from retrieval_lens.data.line_index import BLOCK_LINES, index_cache_files, line_index_of

PARITY = os.path.join(REPO, "test", "fixtures", "data-parity")
EXPECTED = json.load(open(os.path.join(PARITY, "expected.json"), encoding="utf-8"))


def ts_line_index(file: str) -> dict:
    out = subprocess.run(
        ["node", "--import", "tsx", os.path.join(PARITY, "lineIndexOf.ts"), file], capture_output=True, text=True, cwd=REPO, timeout=120, check=True
    )
    return json.loads(out.stdout)


def write_pairs(file: str, n: int, tag: str, blank_every: int = 0) -> None:
    opener = gzip.open if file.endswith(".gz") else open
    with opener(file, "wt", encoding="utf-8") as f:
        for i in range(n):
            if blank_every and i % blank_every == 0:
                f.write("  \n")
            f.write(json.dumps({"query": f"{tag} query {i}", "positive": f"{tag} item {i}", "item_id": f"{tag}-{i}"}) + "\n")


def stream(paths, world=1, rank=0, buffer=50, seed=7, share=0.05):
    files = resolve_data_files(paths, fmt="auto", label="data.train")
    return StreamedExamples(files, str(paths), seed, buffer, share, rank, world)


def ids(s: StreamedExamples, epoch: int):
    return [e.positive.id for e in s.epoch(epoch)]


def test_each_language_reads_the_line_index_the_other_wrote(tmp_path) -> None:
    file = str(tmp_path / "train.jsonl")
    write_pairs(file, 1000, "a", blank_every=7)
    ts = ts_line_index(file)  # built and cached by the TypeScript code
    assert ts["fromCache"] is False
    py = line_index_of(file)
    assert py.from_cache and py.cache_file == index_cache_files(file)[0] and not py.rejected
    assert (py.lines, py.non_blank, list(py.offsets)) == (ts["lines"], ts["nonBlank"], ts["offsets"])
    assert len(py.offsets) == -(-py.lines // BLOCK_LINES) + 1
    # A cache written by Python is read by TypeScript.
    os.remove(file + ".rlens-index")
    built = line_index_of(file)
    assert not built.from_cache and built.cache_file == file + ".rlens-index"
    again = ts_line_index(file)
    assert again["fromCache"] is True and again["offsets"] == list(built.offsets) and again["rejected"] == []


def test_a_corrupt_index_cache_fails_its_checksum_and_is_rebuilt(tmp_path) -> None:
    file = str(tmp_path / "train.jsonl")
    write_pairs(file, 700, "a")
    good = line_index_of(file)
    raw = bytearray(open(file + ".rlens-index", "rb").read())
    raw[-9] ^= 0x01  # one bit of an offset
    open(file + ".rlens-index", "wb").write(bytes(raw))
    rebuilt = line_index_of(file)
    assert not rebuilt.from_cache and list(rebuilt.offsets) == list(good.offsets)
    assert rebuilt.rejected == [f"{file}.rlens-index: checksum does not match its content"]
    assert ts_line_index(file)["fromCache"] is True  # the rebuilt cache is valid for TypeScript too


@pytest.mark.parametrize("world", [1, 2, 3])
def test_over_the_ranks_every_pair_is_read_once_per_epoch_each_rank_its_share(tmp_path, world) -> None:
    os.makedirs(tmp_path / "shards")
    write_pairs(str(tmp_path / "shards" / "part-1.jsonl"), 1300, "p1")
    write_pairs(str(tmp_path / "shards" / "part-2.jsonl"), 900, "p2", blank_every=11)
    write_pairs(str(tmp_path / "shards" / "part-3.jsonl.gz"), 600, "g3")
    write_pairs(str(tmp_path / "shards" / "part-4.jsonl.gz"), 300, "g4")
    pattern = str(tmp_path / "shards" / "part-*")
    everything = sorted(e.positive.id for e in load_examples(pattern)[0])
    assert len(everything) == 3100
    for epoch in (0, 1):
        per_rank = [ids(stream(pattern, world, r), epoch) for r in range(world)]
        assert sorted(i for r in per_rank for i in r) == everything
        if world > 1:
            assert all(0.2 * 3100 / world < len(r) < 2.2 * 3100 / world for r in per_rank), [len(r) for r in per_rank]
    s = stream(pattern, world, 0)
    assert ids(s, 0) != ids(s, 1)  # reshuffled each epoch
    assert ids(s, 0) == ids(stream(pattern, world, 0), 0)  # and reproducible


def test_one_gzip_file_or_data_smaller_than_a_block_per_rank_is_split_between_the_ranks_by_lines(tmp_path) -> None:
    file = str(tmp_path / "train.jsonl.gz")
    write_pairs(file, 2000, "z")
    a, b = ids(stream(file, 2, 0), 0), ids(stream(file, 2, 1), 0)
    assert sorted(a + b) == sorted(f"z-{i}" for i in range(2000)) and len(a) == len(b) == 1000
    small = str(tmp_path / "small.jsonl")
    write_pairs(small, 100, "s")  # one block, three ranks
    shares = [ids(stream(small, 3, r), 0) for r in range(3)]
    assert sorted(i for r in shares for i in r) == sorted(f"s-{i}" for i in range(100)) and [len(r) for r in shares] == [34, 33, 33]


def test_batches_wrap_into_the_next_epoch_and_the_shuffle_buffer_mixes_blocks(tmp_path) -> None:
    file = str(tmp_path / "train.jsonl")
    write_pairs(file, 1000, "w")
    s = stream(file, buffer=400)
    got = []
    for batch, epoch in s.batches(96):
        assert len(batch) == 96
        got.append(epoch)
        if len(got) == 12:
            break
    assert Counter(got) == Counter({0: 11, 1: 1})  # 10 full batches fit in 1000 pairs; the 11th wraps
    first = [int(i.split("-")[1]) // BLOCK_LINES for i in ids(s, 0)[:100]]
    assert len(set(first)) >= 2  # the buffer draws from more than one block


def test_a_shard_that_disappears_mid_epoch_is_named(tmp_path) -> None:
    p1, p2 = str(tmp_path / "part-1.jsonl"), str(tmp_path / "part-2.jsonl")
    write_pairs(p1, 600, "a")
    write_pairs(p2, 600, "b")
    s = stream(str(tmp_path / "part-*.jsonl"), buffer=1)
    it = s.epoch(0)
    first = next(it)
    other = p2 if first.file == p1 else p1  # not opened yet: the first block read is in the other shard
    os.remove(other)
    with pytest.raises(DataError) as e:
        list(it)
    assert str(e.value) == f"{other} disappeared while training read it (deleted or moved); start the run again"
    with pytest.raises(DataError, match="disappeared while training read it"):
        list(s.epoch(1))


def test_a_corrupt_gzip_shard_and_an_unknown_shape_get_the_typescript_messages(tmp_path) -> None:
    bad = str(tmp_path / "broken.jsonl.gz")
    open(bad, "wb").write(b"not gzip\n")
    with pytest.raises(DataError) as e:
        stream(bad)
    assert str(e.value) == f"cannot read {bad}: incorrect header check"  # test/unit/dataStream.test.ts: the same
    cut = str(tmp_path / "cut.jsonl.gz")
    write_pairs(cut, 500, "c")
    data = open(cut, "rb").read()
    open(cut, "wb").write(data[: len(data) // 2])
    with pytest.raises(DataError, match=r"^cannot read .*cut\.jsonl\.gz: unexpected end of file$"):
        stream(cut)
    # An unknown record shape: refused when the stream opens, before any training, as by the TypeScript reader.
    unknown = str(tmp_path / "unknown.jsonl")
    shutil.copy(os.path.join(PARITY, "unknown.jsonl"), unknown)
    with pytest.raises(DataError) as e:
        stream(unknown)
    assert str(e.value) == EXPECTED["unknown-shape"]["error"].replace("<dir>", str(tmp_path))


def test_the_bad_line_share_is_checked_on_what_a_rank_read(tmp_path) -> None:
    file = str(tmp_path / "train.jsonl")
    with open(file, "w", encoding="utf-8") as f:
        for i in range(400):
            f.write(json.dumps({"query": f"q{i}", "positive": f"p{i}"}) + "\n" if i % 10 else "{broken\n")
    with pytest.raises(DataError, match=rf"^40 of 400 lines \(10\.0%\) in {file} are malformed, more than data\.maxBadLineShare 5%; first: line \d+1: invalid JSON: "):
        list(stream(file).epoch(0))
    assert len(list(stream(file, share=0.1).epoch(0))) == 360


@pytest.mark.parametrize("world", [1, 2])
def test_batches_resumed_from_a_position_are_those_the_uninterrupted_stream_gives_next(tmp_path, world) -> None:
    # Three shards over several blocks, a shuffle buffer that spans blocks, batches that wrap across epochs.
    for k in range(3):
        write_pairs(str(tmp_path / f"part-{k}.jsonl"), 700, f"p{k}")
    glob = str(tmp_path / "part-*.jsonl")
    for rank in range(world):
        whole = stream(glob, world, rank, buffer=300)
        seen, positions = [], []
        for batch, epoch in whole.batches(96):
            seen.append(([e.positive.id for e in batch], epoch))
            positions.append(whole.position)
            if len(seen) == 40:
                break
        assert {e for _, e in seen} >= {0, 1}  # 2100 pairs / world per epoch: the 40 batches cross epochs
        for cut in (0, 7, 10 * world + 1, 33):
            again = stream(glob, world, rank, buffer=300)
            resumed = []
            for batch, epoch in again.batches(96, positions[cut]):
                resumed.append(([e.positive.id for e in batch], epoch))
                if len(resumed) == 39 - cut:
                    break
            assert resumed == seen[cut + 1 :], (rank, cut, positions[cut])
