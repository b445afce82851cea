"""Lines of a data file, as src/core/data/lineReader.ts reads them: split on "\\n" (a trailing "\\r" removed), a
UTF-8 byte-order mark dropped on line 1, bytes that are not UTF-8 reported as the line's fault (never replaced
silently), `*.gz` decompressed on the way with zlib — whose messages ("incorrect header check", "unexpected end
of file") are the ones node:zlib gives, so a corrupt shard reads the same in both trainers. File-system errors
are worded as Node words them ("ENOENT: no such file or directory, open '<file>'").
"""

from __future__ import annotations

import errno
import os
import stat
import zlib
from typing import BinaryIO, Iterator, List, NamedTuple, Optional

from .formats import DataError

CHUNK = 1 << 20


class NumberedLine(NamedTuple):
    text: str
    line: int
    fault: Optional[str] = None


def is_gzip_file(file: str) -> bool:
    return file.lower().endswith(".gz")


def node_os_error(e: OSError, syscall: str, path: str) -> str:
    """An OSError as Node's message: "ENOENT: no such file or directory, open '/abs/x'"."""
    code = errno.errorcode.get(e.errno or 0, "EIO")
    text = e.strerror or str(e)
    return f"{code}: {text[:1].lower() + text[1:]}, {syscall} '{path}'"


class ReadError(DataError):
    """A file that cannot be read (a file-system or gzip error): "cannot read <file>: <reason>"; a reader that
    knows the config key appends it (load.py), as load.ts withReadErrors does."""

    def __init__(self, file: str, reason: str):
        super().__init__(f"cannot read {file}: {reason}", file)
        self.reason = reason


def cannot_read(file: str, e: OSError, syscall: str = "open") -> ReadError:
    """The ReadError of a file-system error while reading `file`."""
    return ReadError(file, node_os_error(e, syscall, file))


def open_regular(file: str) -> BinaryIO:
    """Opens a regular file for reading (a FIFO or device would block or never end)."""
    fd = os.open(file, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise DataError(f"{file} is not a regular file; data must be a file or a folder", file)
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb", buffering=0)
    except BaseException:
        os.close(fd)
        raise


def decode_line(raw: bytes, line: int) -> NumberedLine:
    """One line's bytes (without "\\n") as text, or with the fault of its first byte that is not UTF-8."""
    if raw.endswith(b"\r"):
        raw = raw[:-1]
    if line == 1 and raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return NumberedLine(raw.decode("utf-8"), line)
    except UnicodeDecodeError as e:
        reason = f"invalid UTF-8 byte 0x{raw[e.start]:02x} at byte {e.start + 1} (the file must be UTF-8 text)"
        return NumberedLine(raw.decode("utf-8", "replace"), line, reason)


def gunzip_chunks(f: BinaryIO, file: str) -> Iterator[bytes]:
    """The decompressed bytes of a gzip file (several members too), with zlib's own messages as DataErrors."""
    d, fed = zlib.decompressobj(wbits=31), False
    try:
        while True:
            raw = f.read(CHUNK)
            if not raw:
                break
            while raw:
                fed = True
                out = d.decompress(raw)
                if out:
                    yield out
                raw = b""
                if d.eof:
                    raw = d.unused_data
                    d, fed = zlib.decompressobj(wbits=31), False
        if fed and not d.eof:
            raise ReadError(file, "unexpected end of file")
    except zlib.error as e:
        reason = str(e).split(": ", 1)[-1]
        raise ReadError(file, reason) from None


def byte_chunks(file: str) -> Iterator[bytes]:
    """The bytes of a plain or gzip file, in chunks."""
    try:
        f = open_regular(file)
    except OSError as e:
        raise cannot_read(file, e) from None
    with f:
        if is_gzip_file(file):
            yield from gunzip_chunks(f, file)
            return
        while True:
            try:
                raw = f.read(CHUNK)
            except OSError as e:
                raise cannot_read(file, e, "read") from None
            if not raw:
                return
            yield raw


def read_lines(file: str) -> Iterator[NumberedLine]:
    """Every line of a file (blank ones too, so numbers match an editor's), plain or gzip, streamed."""
    rest = b""
    n = 0
    for chunk in byte_chunks(file):
        parts: List[bytes] = (rest + chunk).split(b"\n")
        rest = parts.pop()
        for raw in parts:
            n += 1
            yield decode_line(raw, n)
    if rest:
        yield decode_line(rest, n + 1)
