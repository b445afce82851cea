"""The training data of a PyTorch run (the Python side of src/core/training/trainingData.ts): data.train as a
file, glob or list of shards is streamed, rank r of N reading only its share (data/stream.py); a BEIR folder's
relevant pairs are held in memory, one seeded permutation per epoch, rank r taking the r-th slice of each
global batch. Either way `batches()` gives this rank's full batches for ever (a batch may wrap into the next
epoch), and the run log gets the TypeScript trainer's lines: the count and detected shape at the start, and
"epoch 1 read: …" once the first epoch was read.
"""

from __future__ import annotations

import os
from typing import Callable, Iterator, List, Optional, Tuple

import torch

from .config import resolve_path
from .data import DataError, Example, StreamedExamples, describe_data_path, load_examples, resolve_data_files
from .data.paths import detect_format, is_glob
from .data.stream import EpochCounts


def describe_example_count(examples: int, data_lines: Optional[int], estimated: bool, one_pair_per_line: bool) -> str:
    """The count at the start of a run, as src/core/data/exampleCount.ts words it."""
    if not estimated:
        return f"{examples} training examples"
    if one_pair_per_line:
        return f"at most {data_lines} training examples ({data_lines} data lines by the line index, one pair each; bad lines are counted when the first epoch is read)"
    return f"~{data_lines} training examples (estimate: {data_lines} data lines by the line index, and a line may hold several pairs; counted when the first epoch is read)"


class TrainingData:
    """This rank's training batches and what the run log says about them."""

    def __init__(self, cfg: dict, config_path: str, rank: int, world: int, batch: int, log: Callable[[str, str], None] = lambda level, m: None):
        d, t = cfg["data"], cfg["training"]
        self.rank, self.world, self.batch, self.seed = rank, world, batch, t["seed"]
        self.log = log
        self.base_dir = os.path.dirname(os.path.abspath(config_path))
        train = d["train"]
        self.stream: Optional[StreamedExamples] = None
        self.memory: Optional[List[Example]] = None
        self.described = describe_data_path(train, self.base_dir)
        self.notes: List[Tuple[str, str]] = []
        if isinstance(train, str) and not is_glob(train, self.base_dir) and detect_format(resolve_path(config_path, train), d["format"], "data.train") == "beir":
            self.memory, report = load_examples(train, d["format"], d["maxBadLineShare"], d.get("fields"), d.get("trainSplit"), self.base_dir, "data.train")
            self.format = "beir"
            lost = f" ({report.pairs_lost} relevant pairs lost)" if report.pairs_lost else ""
            self.start_line = f"{len(self.memory)} training examples from {self.described} (beir), {report.tally.bad_count} bad lines{lost}"
            self.notes += [("warn", b) for b in report.tally.located()[:10]]
            if len(self.memory) < 2:
                raise DataError(f"training needs at least 2 examples, got {len(self.memory)}", self.described)
            if batch * world > len(self.memory):
                raise DataError(f"training.batchSize {batch} × {world} ranks is larger than the {len(self.memory)} training examples", self.described)
            self.planned = len(self.memory)
            return
        files = resolve_data_files(train, self.base_dir, d["format"], "data.train")
        self.format = files[0].format
        self.stream = StreamedExamples(
            files, self.described, self.seed, d["shuffleBuffer"], d["maxBadLineShare"], rank, world, d.get("fields"), "data.train", self._epoch_read
        )
        s = self.stream
        for ix in s.indexes:
            if ix.rejected:
                self.notes += [("warn", f"data.train: line index cache not used, rebuilt: {r}") for r in ix.rejected]
        built = [ix for ix in s.indexes if not ix.from_cache]
        cached = len(s.indexes) - len(built)
        self.notes.append(("info", f"data.train: line index of {len(s.indexes)} file{'s' if len(s.indexes) != 1 else ''}: {cached} from cache, {len(built)} built in {sum(ix.seconds for ix in built):.1f} s; rank {rank} of {world} reads its share of {len(s.units)} blocks"))
        shape = s.shape
        shape_text = f": {shape['name']}, {shape['how']}" if shape else ""
        files_text = f", {len(files)} files" if len(files) > 1 else ""
        count = describe_example_count(s.data_lines, s.data_lines, True, s.one_pair_per_line)
        self.start_line = f"{count} from {self.described} ({self.format}{shape_text}{files_text}, streamed, shuffle buffer {d['shuffleBuffer']})"
        self.planned = s.data_lines
        if s.data_lines < 2:
            raise DataError(f"training needs at least 2 examples, got {s.data_lines} data lines in {self.described}", self.described)

    def _epoch_read(self, c: EpochCounts) -> None:
        if c.epoch != 0 or self.rank != 0 or self.stream is None:
            return
        share = f" (rank 0's share of {self.world})" if self.world > 1 else ""
        self.log("info", f"epoch 1 read{share}: {c.examples} training examples from {c.tally.lines_read} lines, {c.tally.bad_count} bad lines")
        for b in c.tally.located()[:10]:
            self.log("warn", b)

    def batches(self) -> Iterator[Tuple[List[Example], int]]:
        """This rank's batches of `batch` pairs and the epoch (0-based) of each, for ever."""
        if self.stream is not None:
            yield from self.stream.batches(self.batch)
            return
        data = self.memory or []
        n, per_step = len(data), self.batch * self.world
        epoch, pos = 0, 0
        perm = self._permutation(n, 0)
        while True:
            first_epoch, idx = epoch, []
            while len(idx) < per_step:
                if pos >= n:
                    epoch, pos = epoch + 1, 0
                    perm = self._permutation(n, epoch)
                idx.append(perm[pos])
                pos += 1
            mine = idx[self.rank * self.batch : (self.rank + 1) * self.batch]
            yield [data[k] for k in mine], first_epoch

    def _permutation(self, n: int, epoch: int) -> List[int]:
        g = torch.Generator().manual_seed(self.seed * 1000003 + epoch)
        return torch.randperm(n, generator=g).tolist()

    def close(self) -> None:
        if self.stream is not None:
            self.stream.close()
