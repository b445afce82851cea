"""The training data of a PyTorch run (the Python side of src/core/training/trainingData.ts): data.train as a
file, glob or list of shards is streamed, rank r of N reading only its share (data/stream.py); a BEIR folder's
relevant pairs are held in memory, one seeded permutation per epoch, rank r taking the r-th slice of each
global batch. Either way `batches()` gives this rank's full batches for ever (a batch may wrap into the next
epoch), and the run log gets the TypeScript trainer's lines: the count and detected shape at the start, and
"epoch 1 read: …" once the first epoch was read. With data.positiveText "corpus", a positive whose id is in the
corpus is trained on the corpus item (its text, title + text for BEIR, and its corpus line), as
src/core/data/audit/corpusPositives.ts does.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Callable, Dict, Iterator, List, Optional, Tuple

import torch

from .config import resolve_path
from .data import DataError, Example, Item, StreamedExamples, describe_data_path, load_corpus, load_examples, resolve_data_files
from .data.paths import data_path_list, detect_format, is_glob
from .data.stream import EpochCounts, SharedBadLineShare


def describe_example_count(examples: int, data_lines: Optional[int], estimated: bool, one_pair_per_line: bool) -> str:
    """The count at the start of a run, as src/core/data/exampleCount.ts words it."""
    if not estimated:
        return f"{examples} training examples"
    if one_pair_per_line:
        return f"at most {data_lines} training examples ({data_lines} data lines by the line index, one pair each; bad lines are counted when the first epoch is read)"
    return f"~{data_lines} training examples (estimate: {data_lines} data lines by the line index, and a line may hold several pairs; counted when the first epoch is read)"


def corpus_file_of(cfg: dict, config_path: str) -> Optional[str]:
    """The corpus file of a config, as auditData.ts `corpusFileOf`: data.corpus (a BEIR folder's corpus.jsonl), else
    a BEIR test or training folder's corpus.jsonl, else None."""
    d = cfg["data"]
    base = os.path.dirname(os.path.abspath(config_path))

    def beir_folder(p, label: str) -> Optional[str]:
        entries = data_path_list(p) if p is not None else []
        if len(entries) != 1 or is_glob(entries[0], base):
            return None
        path = resolve_path(config_path, entries[0])
        return path if d["format"] == "beir" or detect_format(path, d["format"], label) == "beir" else None

    if d.get("corpus"):
        folder = beir_folder(d["corpus"], "data.corpus")
        return os.path.join(folder, "corpus.jsonl") if folder else resolve_path(config_path, d["corpus"])
    folder = beir_folder(d.get("test"), "data.test") or beir_folder(d.get("train"), "data.train")
    return os.path.join(folder, "corpus.jsonl") if folder else None


def corpus_positives(cfg: dict, config_path: str) -> Tuple[Optional[Dict[str, Item]], Optional[str]]:
    """data.positiveText "corpus": the corpus items by id and the run-log note (corpusPositives.ts
    `withCorpusPositives`); (None, None) for "line"."""
    if cfg["data"].get("positiveText", "line") != "corpus":
        return None, None
    file = corpus_file_of(cfg, config_path)
    if file is None:
        return None, "data.positiveText \"corpus\": no corpus (set data.corpus, or data.test to a BEIR folder); positives keep their lines' texts"
    items = {it.id: it for it in load_corpus(file, cfg["data"]["maxBadLineShare"], "data.corpus")}
    return items, f"data.positiveText \"corpus\": positives are trained on the text of their id in {file} ({len(items)} items)"


class TrainingData:
    """This rank's training batches and what the run log says about them."""

    def __init__(self, cfg: dict, config_path: str, rank: int, world: int, batch: int, log: Callable[[str, str], None] = lambda level, m: None):
        d, t = cfg["data"], cfg["training"]
        self.rank, self.world, self.batch, self.seed = rank, world, batch, t["seed"]
        self.log = log
        self.base_dir = os.path.dirname(os.path.abspath(config_path))
        train = d["train"]
        self.stream: Optional[StreamedExamples] = None
        self.shared_share: Optional[SharedBadLineShare] = None
        self.memory: Optional[List[Example]] = None
        self.described = describe_data_path(train, self.base_dir)
        self.notes: List[Tuple[str, str]] = []
        self._memory_position: Tuple[int, int] = (0, 0)
        self.corpus, self.positive_text_note = corpus_positives(cfg, config_path)
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
        self.shared_share = SharedBadLineShare(s) if world > 1 else None
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

    def share_counts(self) -> List[float]:
        """This rank's bad-line counts to sum over the ranks (streamed with several ranks; else none)."""
        return self.shared_share.counts() if self.shared_share is not None else []

    def check_share(self, sums: List[float], gather) -> None:
        """data.maxBadLineShare over the ranks' summed counts (a located DataError on every rank at once)."""
        if self.shared_share is not None:
            self.shared_share.check(sums, gather)

    def batches(self, start: Tuple[int, int] = (0, 0)) -> Iterator[Tuple[List[Example], int]]:
        """This rank's batches of `batch` pairs and the epoch (0-based) of each, for ever, from `start` (a
        position as `position` gives it; resume_start maps a checkpoint's positions to this rank's); with
        data.positiveText "corpus", positives whose id the corpus has are its items."""
        corpus = self.corpus
        for batch, epoch in self._line_batches(start):
            if corpus is not None:
                batch = [dataclasses.replace(e, positive=corpus[e.positive.id]) if e.positive.id in corpus else e for e in batch]
            yield batch, epoch

    def _line_batches(self, start: Tuple[int, int]) -> Iterator[Tuple[List[Example], int]]:
        if self.stream is not None:
            yield from self.stream.batches(self.batch, start)
            return
        data = self.memory or []
        n, per_step = len(data), self.batch * self.world
        epoch, pos = start
        perm = self._permutation(n, epoch)
        while True:
            first_epoch, idx = epoch, []
            while len(idx) < per_step:
                if pos >= n:
                    epoch, pos = epoch + 1, 0
                    perm = self._permutation(n, epoch)
                idx.append(perm[pos])
                pos += 1
            self._memory_position = (epoch, pos)
            mine = idx[self.rank * self.batch : (self.rank + 1) * self.batch]
            yield [data[k] for k in mine], first_epoch

    @property
    def position(self) -> Tuple[int, int]:
        """Where the batch after the last one given starts: (epoch, pairs of that epoch read before it) — of this
        rank's share when streamed, of the global per-epoch permutation (every rank alike) for a BEIR folder."""
        return self.stream.position if self.stream is not None else self._memory_position

    def position_record(self, positions: List[Tuple[int, int]]) -> dict:
        """The data position of a checkpoint (resume.json "data"), from every rank's `position`."""
        kind = "stream" if self.stream is not None else "memory"
        return {"kind": kind, "worldSize": self.world, "seed": self.seed, "dataLines": self.planned, "ranks": [list(p) for p in positions]}

    def resume_start(self, saved: dict) -> Tuple[Tuple[int, int], str]:
        """This rank's start position from a checkpoint's data position, and the log line saying what it means."""
        ranks = [(int(e), int(o)) for e, o in saved["ranks"]]
        kind = "stream" if self.stream is not None else "memory"
        if saved.get("kind") != kind or saved.get("seed") != self.seed or saved.get("dataLines") != self.planned:
            epoch = min(e for e, _ in ranks)
            why = "the data, its kind or training.seed changed since the checkpoint"
            return (epoch, 0), f"data position: {why}, so the order cannot carry over: epoch {epoch + 1} starts from its first pair"
        if kind == "memory":
            e, o = ranks[0]
            return (e, o), f"data position: epoch {e + 1}, pair {o} of its seeded permutation of the {self.planned} pairs (one global order: the same for any number of ranks; each step takes the next {self.batch} × {self.world} pairs)"
        if saved.get("worldSize") == self.world:
            e, o = ranks[self.rank]
            return (e, o), f"data position: each rank continues its share where the checkpoint left it (rank 0: epoch {e + 1} after {o} pairs, read again and skipped to restore the shuffle buffer)" if self.rank == 0 else ""
        epoch = min(e for e, _ in ranks)
        return (epoch, 0), (
            f"data position: the checkpoint was written by {saved.get('worldSize')} ranks and this job has {self.world}; streamed data is split into per-rank shares, "
            f"so the position within an epoch does not carry over: epoch {epoch + 1} starts again from its first pair in the {self.world}-rank order (pairs of it trained on before the checkpoint are read again)"
        )

    def _permutation(self, n: int, epoch: int) -> List[int]:
        g = torch.Generator().manual_seed(self.seed * 1000003 + epoch)
        return torch.randperm(n, generator=g).tolist()

    def close(self) -> None:
        if self.stream is not None:
            self.stream.close()
