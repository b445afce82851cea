"""Training pairs streamed per rank (the Python side of src/core/data/exampleStream.ts). The data files (one, or
shards) are indexed once (`.rlens-index`, line_index.py) and every epoch is read without holding the data set:

  1. the lines of the plain files, taken as one sequence in file order, are cut into blocks of `blockLines`
     lines (a block may span two shards); each gzip file is one unit, read sequentially;
  2. the units are shuffled with a generator seeded by (seed, epoch), and rank r of N reads only the units at
     positions r, r + N, r + 2N, … of that order — its share of plain blocks, whole gzip files when there are at
     least N of them, else every N-th line of each gzip file (each rank then decompresses the file; so too for
     every unit when the data has fewer units than ranks);
  3. the rank's pairs pass through a shuffle buffer of data.shuffleBuffer pairs reseeded by (seed, epoch, rank).

So each rank holds at most its shuffle buffer and one block, and over the ranks every pair is drawn exactly
once per epoch. Bad lines are counted per rank and epoch; data.maxBadLineShare is checked, with the TypeScript
messages, at 10,000 lines read, at every doubling and at the end of the epoch: by one process on its lines, and
with several ranks on the sums over the ranks (SharedBadLineShare, at the training loop's per-step all-reduce:
each rank's own share can be under the limit while the data set is over it). A file
that changes or disappears while it is read is a located DataError.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from typing import BinaryIO, Callable, Iterator, List, Optional, Tuple

from ..schemas import data_format_rules
from .formats import ONE_PAIR_SHAPES, DataError, Example, LineFault, RecordParser, is_blank, shape_report
from .line_index import BLOCK_LINES, LineIndex, line_index_of, mtime_ms, read_indexed_lines
from .lines import NumberedLine, cannot_read, open_regular, read_lines
from .paths import DataFile, file_record_parser
from .tally import LineTally, check_bad_line_share

SHARE_CHECK_LINES: int = data_format_rules()["shareCheckLines"]


@dataclass
class _File:
    df: DataFile
    index: LineIndex
    header: int  # 1-based line of a TSV header to skip, else 0
    parser: RecordParser
    plain_start: int = 0
    handle: Optional[BinaryIO] = None


@dataclass
class EpochCounts:
    epoch: int
    examples: int
    tally: LineTally


Unit = Tuple[str, int, int]  # ("plain", first global line, end) or ("gzip", file number, 0)


def _first_line(df: DataFile, parser: RecordParser) -> int:
    """Shows a file's first non-blank line to its parser (exampleStream.ts firstLine): a header's line number, else 0;
    an unknown shape is a DataError before any training, a bad first line decides nothing."""
    for text, line, fault in read_lines(df.file):
        if is_blank(text):
            continue
        if fault:
            return 0
        if parser.header(text):
            return line
        try:
            parser.parse(text, df.file, line)
        except LineFault:
            pass
        return 0
    return 0


def _seeded(*parts) -> random.Random:
    return random.Random("retrieval-lens-" + "-".join(str(p) for p in parts))


class StreamedExamples:
    """Training pairs of indexed data files, the share of rank `rank` of `world`."""

    def __init__(
        self,
        files: List[DataFile],
        describe: str,
        seed: int,
        shuffle_buffer: int,
        max_bad_share: float,
        rank: int = 0,
        world: int = 1,
        fields: Optional[dict] = None,
        label: Optional[str] = None,
        on_epoch_read: Optional[Callable[[EpochCounts], None]] = None,
    ):
        self.describe, self.seed, self.shuffle_buffer, self.max_bad_share = describe, seed, shuffle_buffer, max_bad_share
        self.rank, self.world, self.on_epoch_read = rank, world, on_epoch_read
        self.files: List[_File] = []
        for df in files:
            parser = file_record_parser(df, fields, label)
            try:
                index = line_index_of(df.file)
                header = _first_line(df, parser)
            except OSError as e:
                raise cannot_read(df.file, e) from None
            self.files.append(_File(df, index, header, parser))
        plain = 0
        for f in self.files:
            if not f.index.gzip:
                f.plain_start = plain
                plain += f.index.lines
        self.units: List[Unit] = [("plain", s, min(plain, s + BLOCK_LINES)) for s in range(0, plain, BLOCK_LINES)]
        self.units += [("gzip", i, 0) for i, f in enumerate(self.files) if f.index.gzip]
        self.gzip_whole = sum(1 for f in self.files if f.index.gzip) >= world
        self.known: Optional[int] = None
        # The tally of the first epoch this job reads, growing while it is read (SharedBadLineShare sums it over ranks).
        self.job_tally: Optional[LineTally] = None
        self.job_tally_done = False
        self.position: Tuple[int, int] = (0, 0)

    @property
    def shape(self):
        return shape_report([f.parser for f in self.files])

    @property
    def data_lines(self) -> int:
        """Non-blank lines of all files minus TSV headers (by the line indexes: exact)."""
        return sum(f.index.non_blank - (1 if f.header else 0) for f in self.files)

    @property
    def one_pair_per_line(self) -> bool:
        return all(f.parser.shape in ONE_PAIR_SHAPES for f in self.files)

    @property
    def indexes(self) -> List[LineIndex]:
        return [f.index for f in self.files]

    def close(self) -> None:
        for f in self.files:
            if f.handle is not None:
                f.handle.close()
                f.handle = None

    def unit_order(self, epoch: int) -> List[Unit]:
        order = list(self.units)
        _seeded("data", self.seed, epoch).shuffle(order)
        return order

    def my_units(self, epoch: int) -> List[Tuple[Unit, bool]]:
        """This rank's units of the epoch, in order; the flag: a unit all ranks read, each keeping every world-th
        line (a gzip file when there are fewer than `world` of them; every unit of data with fewer blocks than ranks)."""
        tiny = len(self.units) < self.world
        out: List[Tuple[Unit, bool]] = []
        for pos, unit in enumerate(self.unit_order(epoch)):
            if tiny or (unit[0] == "gzip" and not self.gzip_whole):
                out.append((unit, True))
            elif pos % self.world == self.rank:
                out.append((unit, False))
        return out

    def epoch(self, epoch: int) -> Iterator[Example]:
        """This rank's pairs of epoch `epoch` (0-based) in their training order."""
        rng = _seeded("buffer", self.seed, epoch, self.rank)
        buf: List[Example] = []
        size = max(1, self.shuffle_buffer)
        for chunk in self._read_epoch(epoch):
            for ex in chunk:
                if len(buf) < size:
                    buf.append(ex)
                    continue
                j = rng.randrange(size)
                buf[j], ex = ex, buf[j]
                yield ex
        while buf:
            j = rng.randrange(len(buf))
            buf[j], buf[-1] = buf[-1], buf[j]
            yield buf.pop()

    def batches(self, batch: int, start: Tuple[int, int] = (0, 0)) -> Iterator[Tuple[List[Example], int]]:
        """Full batches of this rank's pairs for ever, epoch after epoch (a batch may wrap into the next epoch;
        its epoch is that of its first pair). `start` = (epoch, pairs): begin after the first `pairs` pairs of that
        epoch, replayed (read and skipped: the order is a function of seed, epoch, rank and world). After each
        batch, `self.position` is the (epoch, pairs) to start from to read the batch after it."""
        epoch, skip = start
        out: List[Example] = []
        out_epoch = epoch
        while True:
            got = 0
            for ex in self.epoch(epoch):
                got += 1
                if got <= skip:
                    continue
                if not out:
                    out_epoch = epoch
                out.append(ex)
                if len(out) == batch:
                    self.position = (epoch, got)
                    yield out, out_epoch
                    out = []
            if got == 0:
                raise DataError(f"no training examples for rank {self.rank} of {self.world} in {self.describe}: its share of the data is empty", self.describe)
            epoch, skip = epoch + 1, 0

    def _read_epoch(self, epoch: int) -> Iterator[List[Example]]:
        self._require_unchanged()
        tally = LineTally()
        if self.job_tally is None:
            self.job_tally = tally
        local = self.world == 1  # with several ranks the share is checked over all of them (SharedBadLineShare)
        next_check = SHARE_CHECK_LINES
        examples = 0
        for unit, strided in self.my_units(epoch):
            chunks = self._plain_chunks(unit[1], unit[2]) if unit[0] == "plain" else self._gzip_chunks(unit[1])
            for f, lines in chunks:
                out: List[Example] = []
                for text, line, fault in lines:
                    if is_blank(text) or line == f.header or (strided and (f.plain_start + line - 1) % self.world != self.rank):
                        continue
                    tally.lines_read += 1
                    try:
                        if fault:
                            raise LineFault(fault)
                        out.extend(f.parser.parse(text, f.df.file, line))
                    except LineFault as e:
                        tally.add_bad(f.df.file, line, str(e))
                    if local and tally.lines_read >= next_check:
                        check_bad_line_share(tally, self.describe, self.max_bad_share)
                        next_check *= 2
                examples += len(out)
                yield out
        if local:
            check_bad_line_share(tally, self.describe, self.max_bad_share)
        if tally is self.job_tally:
            self.job_tally_done = True
        if self.known is None:
            self.known = examples
        if self.on_epoch_read is not None:
            self.on_epoch_read(EpochCounts(epoch, examples, tally))

    def _gone(self, f: _File) -> DataError:
        return DataError(f"{f.df.file} disappeared while training read it (deleted or moved); start the run again", f.df.file)

    def _require_unchanged(self) -> None:
        """A file that changed since it was indexed would be read at wrong offsets: refuse it."""
        for f in self.files:
            try:
                st = os.stat(f.df.file)
            except FileNotFoundError:
                raise self._gone(f) from None
            if st.st_size != f.index.size or mtime_ms(st) != f.index.mtime_ms:
                raise DataError(f"{f.df.file} changed while training read it (size or modification time); start the run again", f.df.file)

    def _plain_chunks(self, start: int, end: int) -> Iterator[Tuple[_File, List[NumberedLine]]]:
        for f in self.files:
            if f.index.gzip:
                continue
            lo, hi = max(start, f.plain_start) - f.plain_start, min(end, f.plain_start + f.index.lines) - f.plain_start
            if lo >= hi:
                continue
            if f.handle is None:
                try:
                    f.handle = open_regular(f.df.file)
                except FileNotFoundError:
                    raise self._gone(f) from None
                except OSError as e:
                    raise cannot_read(f.df.file, e) from None
            lines, short = read_indexed_lines(f.handle, f.index, lo, hi)
            if short:
                raise DataError(f"{f.df.file} is shorter than when it was indexed; start the run again", f.df.file)
            yield f, lines

    def _gzip_chunks(self, i: int) -> Iterator[Tuple[_File, List[NumberedLine]]]:
        f = self.files[i]
        if not os.path.exists(f.df.file):
            raise self._gone(f)
        chunk: List[NumberedLine] = []
        for nl in read_lines(f.df.file):
            chunk.append(nl)
            if len(chunk) == BLOCK_LINES:
                yield f, chunk
                chunk = []
        if chunk:
            yield f, chunk


class SharedBadLineShare:
    """data.maxBadLineShare over every rank's lines of the first epoch a job reads (each rank streams only its
    share). `counts()` is this rank's [lines read, bad lines, epoch read (0/1)], summed over the ranks by the
    training loop's per-step all-reduce; `check(sums, gather)` raises the TypeScript reader's DataError on every
    rank at once when the summed share is over the limit at 10,000 lines, at every doubling, or when every rank
    has read its share (the first bad line named is the lowest rank's first; `gather` all-gathers an object)."""

    def __init__(self, stream: StreamedExamples):
        self.stream = stream
        self.next_check = SHARE_CHECK_LINES
        self.finished = False

    def counts(self) -> List[float]:
        t = self.stream.job_tally
        return [float(t.lines_read if t else 0), float(t.bad_count if t else 0), 1.0 if self.stream.job_tally_done else 0.0]

    def check(self, sums: List[float], gather: Callable[[object], List[object]]) -> None:
        lines, bad, done = int(sums[0]), int(sums[1]), int(sums[2])
        if self.finished:
            return
        due = done >= self.stream.world or lines >= self.next_check
        if done >= self.stream.world:
            self.finished = True
        while lines >= self.next_check:
            self.next_check *= 2
        if not due or lines == 0 or bad / lines <= self.stream.max_bad_share:
            return
        t = self.stream.job_tally
        firsts = gather(t.bad_lines[0] if t and t.bad_lines else None)
        first = next(f for f in firsts if f is not None)
        check_bad_line_share(LineTally(lines, bad, [first]), self.stream.describe, self.stream.max_bad_share)  # type: ignore[list-item]
