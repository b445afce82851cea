"""The line index of a data file, `<file>.rlens-index` (docs/data.md, "The line index"): the same cache the
TypeScript trainer writes and reads (src/core/data/lineIndex.ts), so a file indexed by either is not scanned
again. Little-endian float64 values: a header [format, file size, mtime (ms), inode, lines, non-blank lines,
block lines, CRC-32 of everything else], then the byte offset where every `blockLines`-th line starts and the
file size (none for a gzip file, which is read sequentially). A cache is a file of the repository: it is
verified, never trusted — identity (size, mtime, inode), checksum, offsets rising from 0 to the size, and a
sample of offsets each following a "\\n" — and rebuilt otherwise, with the reason in `rejected`.
"""

from __future__ import annotations

import hashlib
import os
import stat
import struct
import tempfile
import time
import zlib
from array import array
from dataclasses import dataclass, field
from typing import BinaryIO, List, Optional, Tuple, Union

from ..schemas import data_format_rules
from .lines import NumberedLine, byte_chunks, decode_line, is_gzip_file, open_regular

_RULES = data_format_rules()["lineIndex"]
INDEX_SUFFIX: str = _RULES["suffix"]
INDEX_FORMAT: int = _RULES["format"]
BLOCK_LINES: int = _RULES["blockLines"]
HEADER: int = _RULES["headerValues"]
SPOT_CHECKS: int = _RULES["spotChecks"]
_BLANK_BYTES = b" \t\r\xef\xbb\xbf"


@dataclass
class LineIndex:
    file: str
    size: int
    mtime_ms: float
    lines: int
    non_blank: int
    gzip: bool
    offsets: array  # float64: start of every BLOCK_LINES-th line, then the file size (plain files only)
    from_cache: bool = False
    cache_file: Optional[str] = None
    seconds: float = 0.0
    rejected: List[str] = field(default_factory=list)


def mtime_ms(st: os.stat_result) -> float:
    """The modification time as Node's fs.Stats.mtimeMs computes it (sec · 1e3 + nsec / 1e6, in float64)."""
    sec, nsec = divmod(st.st_mtime_ns, 1_000_000_000)
    return float(sec) * 1e3 + float(nsec) / 1e6


def temp_index_dir() -> str:
    return os.path.join(tempfile.gettempdir(), f"retrieval-lens-index-{os.getuid()}")


def index_cache_files(file: str) -> Tuple[str, str]:
    """The cache beside the file, and the fallback in the per-user temp folder (lineIndex.ts cacheFilesBeside)."""
    h = hashlib.sha256(file.encode("utf-8")).hexdigest()[:16]
    return file + INDEX_SUFFIX, os.path.join(temp_index_dir(), f"{os.path.basename(file)}.{h}{INDEX_SUFFIX}")


def _private_dir(d: str) -> bool:
    try:
        s = os.lstat(d)
    except OSError:
        return False
    return stat.S_ISDIR(s.st_mode) and s.st_uid == os.getuid() and (s.st_mode & 0o077) == 0


def _checksum(raw: bytes) -> int:
    return zlib.crc32(raw[HEADER * 8 :], zlib.crc32(raw[: (HEADER - 1) * 8]))


def _offsets_problem(offsets: array, lines: int, size: int) -> Optional[str]:
    if len(offsets) != -(-int(lines) // BLOCK_LINES) + 1:
        return f"{len(offsets)} offsets for {int(lines)} lines"
    if offsets[0] != 0 or offsets[-1] != size:
        return "offsets do not span the file"
    for b in range(1, len(offsets)):
        if not offsets[b].is_integer() or offsets[b] <= offsets[b - 1]:
            return f"offset of block {b} does not follow block {b - 1}"
    return None


def _offsets_off_line_starts(file: str, offsets: array) -> Optional[str]:
    blocks = len(offsets) - 1
    if blocks <= 1:
        return None
    picks = {blocks - 1} | {max(1, int(k * (blocks - 1) / SPOT_CHECKS + 0.5)) for k in range(1, SPOT_CHECKS + 1)}
    with open_regular(file) as f:
        for b in sorted(picks):
            f.seek(int(offsets[b]) - 1)
            if f.read(1) != b"\n":
                return f"offset of block {b} (byte {int(offsets[b])}) is not at a line start"
    return None


def _read_cache(cache_file: str, file: str, st: os.stat_result) -> Union[LineIndex, str, None]:
    """The cache when it describes `file` and passes every check; None when absent or stale; a reason when wrong."""
    limit = 8 * (HEADER + -(-(st.st_size + 1) // BLOCK_LINES) + 1)
    try:
        with open_regular(cache_file) as f:
            raw = f.read(limit + 1)
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        return None
    except OSError as e:
        return f"{cache_file}: {e.strerror}"
    except Exception as e:  # noqa: BLE001 - not a regular file
        return str(e)
    if len(raw) > limit:
        return f"{cache_file}: larger than an index of this file can be"
    if len(raw) < HEADER * 8 or len(raw) % 8:
        return f"{cache_file}: {len(raw)} bytes is not an index cache"
    values = array("d")
    values.frombytes(raw)
    if struct.pack("=d", 1.0) != struct.pack("<d", 1.0):
        values.byteswap()
    fmt, size, mt, ino, lines, non_blank, block_lines, crc = values[:HEADER]
    if fmt != INDEX_FORMAT or size != st.st_size or mt != mtime_ms(st) or ino != float(st.st_ino) or block_lines != BLOCK_LINES:
        return None
    if crc != _checksum(raw):
        return f"{cache_file}: checksum does not match its content"
    if not (lines.is_integer() and non_blank.is_integer() and 0 <= non_blank <= lines):
        return f"{cache_file}: bad line counts"
    gzip = is_gzip_file(file)
    offsets = values[HEADER:]
    if gzip:
        if len(offsets):
            return f"{cache_file}: offsets in the index of a gzip file"
    else:
        problem = _offsets_problem(offsets, int(lines), st.st_size) or _offsets_off_line_starts(file, offsets)
        if problem:
            return f"{cache_file}: {problem}"
    return LineIndex(file, st.st_size, mtime_ms(st), int(lines), int(non_blank), gzip, offsets, True, cache_file)


def _scan(file: str, gzip: bool) -> Tuple[int, int, array]:
    """Lines, non-blank lines and (plain files) block offsets of one pass over the file."""
    lines = non_blank = pos = line_start = 0
    offsets = array("d")
    open_line = has_content = False
    for chunk in byte_chunks(file):
        parts = chunk.split(b"\n")
        last = len(parts) - 1
        for k, part in enumerate(parts):
            if part or k < last:
                if not open_line:
                    open_line, line_start, has_content = True, pos, False
                if not has_content and part.strip(_BLANK_BYTES):
                    has_content = True
            pos += len(part)
            if k < last:
                pos += 1
                if not gzip and lines % BLOCK_LINES == 0:
                    offsets.append(line_start)
                lines += 1
                non_blank += has_content
                open_line = False
    if open_line:
        if not gzip and lines % BLOCK_LINES == 0:
            offsets.append(line_start)
        lines += 1
        non_blank += has_content
    if not gzip:
        offsets.append(pos)
    return lines, non_blank, offsets


def _write_cache(index: LineIndex, ino: int) -> Optional[str]:
    values = array("d", [INDEX_FORMAT, index.size, index.mtime_ms, ino, index.lines, index.non_blank, BLOCK_LINES, 0]) + index.offsets
    if struct.pack("=d", 1.0) != struct.pack("<d", 1.0):
        values.byteswap()
    raw = bytearray(values.tobytes())
    raw[(HEADER - 1) * 8 : HEADER * 8] = struct.pack("<d", float(_checksum(bytes(raw))))
    beside, in_temp = index_cache_files(index.file)
    for cache_file in (beside, in_temp):
        tmp = f"{cache_file}.{os.getpid()}.{int(time.time() * 1000)}.tmp"
        try:
            if cache_file == in_temp:
                os.makedirs(temp_index_dir(), mode=0o700, exist_ok=True)
                if not _private_dir(temp_index_dir()):
                    continue
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if cache_file == in_temp else 0o644)
            with os.fdopen(fd, "wb") as f:
                f.write(raw)
            os.replace(tmp, cache_file)
            return cache_file
        except OSError:
            try:
                os.unlink(tmp)
            except OSError:
                pass
    return None


def line_index_of(file: str, write_cache: bool = True) -> LineIndex:
    """The line index of an absolute path: from a verified cache, else built by one pass and cached."""
    st = os.stat(file)
    rejected: List[str] = []
    beside, in_temp = index_cache_files(file)
    for cache_file in (beside, in_temp):
        if cache_file == in_temp and not _private_dir(temp_index_dir()):
            continue
        cached = _read_cache(cache_file, file, st)
        if isinstance(cached, str):
            rejected.append(cached)
        elif cached is not None:
            return cached
    t0 = time.perf_counter()
    gzip = is_gzip_file(file)
    lines, non_blank, offsets = _scan(file, gzip)
    after = os.stat(file)
    index = LineIndex(file, st.st_size, mtime_ms(st), lines, non_blank, gzip, offsets, False, None, time.perf_counter() - t0, rejected)
    if write_cache and (after.st_size, after.st_mtime_ns, after.st_ino) == (st.st_size, st.st_mtime_ns, st.st_ino):
        index.cache_file = _write_cache(index, st.st_ino)
    return index


def read_indexed_lines(f: BinaryIO, index: LineIndex, start: int, end: int) -> Tuple[List[NumberedLine], bool]:
    """Lines [start, end) (0-based) of an indexed plain file with one read of their blocks' bytes; `short`:
    the file ended before the indexed bytes (it shrank since it was indexed)."""
    first, last = start // BLOCK_LINES, -(-end // BLOCK_LINES)
    byte_start, byte_end = int(index.offsets[first]), int(index.offsets[last])
    f.seek(byte_start)
    want = byte_end - byte_start
    buf = f.read(want)
    out: List[NumberedLine] = []
    line = first * BLOCK_LINES
    for raw in buf.split(b"\n"):
        if line >= end:
            break
        if line >= start:
            out.append(decode_line(raw, line + 1))
        line += 1
    return out, len(buf) < want
