"""The files of a data path (src/core/data/dataPath.ts, trainFiles.ts): a file, a BEIR folder, a glob
(`shards/part-*.jsonl.gz`) or a list of files and globs read in order — a glob's matches sorted by name with
numbers compared as numbers (part-2 before part-10), never a cache (`*.rlens-index`, `*.rlens-hardneg`) or a
temp file. The same messages as the TypeScript reader ("data file not found: <file> (data.train)")."""

from __future__ import annotations

import glob
import os
import re
import stat
from dataclasses import dataclass
from typing import List, Optional, Sequence, Union

from .formats import DataError, RecordParser, container_of
from .line_index import INDEX_SUFFIX

HARDNEG_SUFFIX = ".rlens-hardneg"
_GLOB_SYNTAX = re.compile(r"[*?\[\]{}]|[!+@]\(")


@dataclass
class DataFile:
    file: str
    format: str
    explicit: bool


def label_suffix(label: Optional[str]) -> str:
    return f" ({label})" if label else ""


def resolve_data_path(path: str, base_dir: Optional[str] = None) -> str:
    return os.path.abspath(path if os.path.isabs(path) else os.path.join(base_dir or os.getcwd(), path))


def _kind(path: str) -> str:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return "missing"
    except NotADirectoryError:
        return "missing"
    return "folder" if stat.S_ISDIR(st.st_mode) else "file" if stat.S_ISREG(st.st_mode) else "special"


def _special_kind(path: str) -> str:
    m = os.stat(path).st_mode
    if stat.S_ISCHR(m):
        return "a character device"
    if stat.S_ISBLK(m):
        return "a block device"
    if stat.S_ISFIFO(m):
        return "a FIFO (named pipe)"
    return "a socket" if stat.S_ISSOCK(m) else "not a file"


def _not_regular(path: str, label: Optional[str]) -> DataError:
    return DataError(f"{path} is not a regular file ({_special_kind(path)}); data must be a file or a folder{label_suffix(label)}", path)


def require_file(file: str, label: Optional[str] = None) -> None:
    kind = _kind(file)
    if kind == "missing":
        raise DataError(f"data file not found: {file}{label_suffix(label)}", file)
    if kind == "folder":
        raise DataError(f"{file} is a folder, expected a file{label_suffix(label)}", file)
    if kind == "special":
        raise _not_regular(file, label)


def detect_format(path: str, fmt: str, label: Optional[str] = None) -> str:
    """The concrete format of an absolute path: 'beir' for a folder with corpus.jsonl, else by data.format or the name."""
    suffix = label_suffix(label)
    kind = _kind(path)
    if kind == "missing":
        raise DataError(f"data file not found: {path}{suffix}", path)
    if kind == "special":
        raise _not_regular(path, label)
    if kind == "folder":
        if fmt not in ("auto", "beir"):
            raise DataError(f'{path} is a folder, but format "{fmt}" needs a file{suffix}', path)
        if _kind(os.path.join(path, "corpus.jsonl")) != "file":
            raise DataError(f"{path} is a folder without corpus.jsonl; expected a data file or a BEIR folder{suffix}", path)
        return "beir"
    if fmt == "beir":
        raise DataError(f'{path} is a file, but format "beir" needs a folder with corpus.jsonl{suffix}', path)
    if fmt != "auto":
        return fmt
    return "tsv" if re.search(r"\.tsv(\.gz)?$", path, re.I) else "jsonl"


def file_format(file: str, fmt: str) -> DataFile:
    if fmt not in ("auto", "beir"):
        return DataFile(file, fmt, True)
    return DataFile(file, "tsv" if re.search(r"\.tsv(\.gz)?$", file, re.I) else "jsonl", False)


def file_record_parser(df: DataFile, fields: Optional[dict] = None, label: Optional[str] = None) -> RecordParser:
    if fields and container_of(df.format) == "tsv":
        raise DataError(f"{df.file}: data.fields maps JSONL fields; this is a TSV file{label_suffix(label)}", df.file)
    return RecordParser(df.format, fields, df.explicit)


def data_path_list(path: Union[str, Sequence[str]]) -> List[str]:
    return [path] if isinstance(path, str) else list(path)


def describe_data_path(path: Union[str, Sequence[str]], base_dir: Optional[str] = None) -> str:
    """"a.jsonl" for one entry, "a.jsonl + 2 more" for a list."""
    entries = [resolve_data_path(p, base_dir) for p in data_path_list(path)]
    return entries[0] if len(entries) == 1 else f"{entries[0]} + {len(entries) - 1} more"


def is_glob(entry: str, base_dir: Optional[str] = None) -> bool:
    return bool(_GLOB_SYNTAX.search(entry.replace("\\", "/"))) and not os.path.exists(resolve_data_path(entry, base_dir))


def _natural_key(path: str):
    return [(0, int(t), "") if t.isdigit() else (1, 0, t.lower()) for t in re.split(r"(\d+)", path)]


def glob_data_files(abs_pattern: str) -> List[str]:
    """The files a glob matches, in reading order, without caches and temp files."""
    matches = [m for m in glob.glob(abs_pattern, recursive=True) if os.path.isfile(m)]
    keep = [m for m in matches if not m.endswith((INDEX_SUFFIX, HARDNEG_SUFFIX, ".tmp"))]
    return [os.path.abspath(m) for m in sorted(keep, key=_natural_key)]


def resolve_data_files(path: Union[str, Sequence[str]], base_dir: Optional[str] = None, fmt: str = "auto", label: Optional[str] = None) -> List[DataFile]:
    """The data files of a data path, in reading order, each checked to be a regular file."""
    entries = data_path_list(path)
    if not entries:
        raise DataError(f"no data files given{label_suffix(label)}", base_dir or os.getcwd())
    files: List[str] = []
    for entry in entries:
        abs_path = resolve_data_path(entry, base_dir)
        if not is_glob(entry, base_dir):
            require_file(abs_path, label)
            files.append(abs_path)
            continue
        matches = glob_data_files(abs_path)
        if not matches:
            raise DataError(f"no file matches {abs_path}{label_suffix(label)}", abs_path)
        files.extend(matches)
    return [file_format(f, fmt) for f in files]
