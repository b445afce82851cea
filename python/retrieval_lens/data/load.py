"""Examples held in memory (src/core/data/load.ts): test data for evaluation, a BEIR folder's relevant pairs, and
corpora. Training files are streamed instead (stream.py). Every reader here has the TypeScript reader's rules
and messages: the same bad-line accounting (data.maxBadLineShare per file and role), the same located errors."""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Dict, Iterator, List, Optional, Sequence, Tuple, Union

from .beir import parse_corpus_line, read_corpus_jsonl, read_queries, read_qrels, resolve_beir_files
from .formats import DataError, Example, Item, LineFault, RecordParser, is_blank, shape_report
from .lines import ReadError, read_lines
from .paths import describe_data_path, detect_format, file_record_parser, is_glob, label_suffix, resolve_data_files, resolve_data_path
from .tally import LineTally, check_bad_line_share


@dataclass
class LoadReport:
    path: str
    format: str
    examples: int
    tally: LineTally
    shape: Optional[Dict[str, str]] = None
    files: int = 1
    pairs_lost: int = 0
    extra: Dict[str, object] = field(default_factory=dict)


def read_pair_lines(file: str, parser: RecordParser, tally: LineTally) -> Iterator[Example]:
    """The examples of a pairs file's lines, bad lines counted in `tally`; a TSV header (the first non-blank
    line) is skipped uncounted."""
    first = True
    for text, line, fault in read_lines(file):
        if is_blank(text):
            continue
        if first:
            first = False
            if fault is None and parser.header(text):
                continue
        tally.lines_read += 1
        try:
            if fault:
                raise LineFault(fault)
            yield from parser.parse(text, file, line)
        except LineFault as e:
            tally.add_bad(file, line, str(e))


@contextmanager
def _read_errors(label: Optional[str]):
    """File-system and gzip errors as DataErrors naming the file and the config key (load.ts withReadErrors)."""
    try:
        yield
    except ReadError as e:
        raise DataError(f"{e}{label_suffix(label)}", e.file) from None


def _require_some(count: int, what: str, path: str, tally: LineTally, label: Optional[str]) -> None:
    if count > 0:
        return
    why = "it holds no data lines" if tally.lines_read == 0 else f"{tally.bad_count} of {tally.lines_read} lines are malformed" if tally.bad_count else "no relevant pairs"
    raise DataError(f"no {what} in {path}{label_suffix(label)}: {why}", path)


def _max_share(share: float, path: str, label: Optional[str]) -> float:
    if not 0 <= share <= 1:
        raise DataError(f"data.maxBadLineShare must be between 0 and 1, got {share}{label_suffix(label)}", path)
    return share


def load_examples(
    path: Union[str, Sequence[str]],
    fmt: str = "auto",
    max_bad_share: float = 0.05,
    fields: Optional[dict] = None,
    split: Optional[str] = None,
    base_dir: Optional[str] = None,
    label: Optional[str] = None,
) -> Tuple[List[Example], LoadReport]:
    """Examples of a pairs file, a glob or list of them, or a BEIR folder (one per relevant qrels pair of
    `split`), in memory; a DataError when the path is missing, more than `max_bad_share` of the lines are bad, or
    nothing is left."""
    if isinstance(path, str) and not is_glob(path, base_dir):
        abs_path = resolve_data_path(path, base_dir)
        share = _max_share(max_bad_share, abs_path, label)
        kind = detect_format(abs_path, fmt, label)
        if kind == "beir":
            return _load_beir(abs_path, split, share, label)
    described = describe_data_path(path, base_dir)
    share = _max_share(max_bad_share, described, label)
    files = resolve_data_files(path, base_dir, fmt, label)
    tally = LineTally()
    parsers = [file_record_parser(df, fields, label) for df in files]
    examples: List[Example] = []
    for df, parser in zip(files, parsers, strict=True):
        with _read_errors(label):
            examples.extend(read_pair_lines(df.file, parser, tally))
    check_bad_line_share(tally, described, share)
    _require_some(len(examples), "examples", described, tally, label)
    return examples, LoadReport(described, files[0].format, len(examples), tally, shape_report(parsers), len(files))


def _load_beir(folder: str, split: Optional[str], share: float, label: Optional[str]) -> Tuple[List[Example], LoadReport]:
    """A BEIR folder: the bad-line share is checked per file (corpus, queries, qrels), so that lost qrels pairs are
    not diluted by a large corpus."""
    files = resolve_beir_files(folder, split, label)
    corpus_t, queries_t, qrels_t = LineTally(), LineTally(), LineTally()
    with _read_errors(label):
        corpus = read_corpus_jsonl(files.corpus, corpus_t)
        queries = read_queries(files.queries, queries_t)
        examples = read_qrels(files.qrels, files.queries, queries, corpus, qrels_t)
    check_bad_line_share(corpus_t, files.corpus, share)
    check_bad_line_share(queries_t, files.queries, share)
    check_bad_line_share(qrels_t, files.qrels, share, "qrels rows", "yield no pair")
    total = LineTally()
    for t in (corpus_t, queries_t, qrels_t):
        total.merge(t)
    _require_some(len(examples), "examples", folder, total, label)
    return examples, LoadReport(folder, "beir", len(examples), total, pairs_lost=qrels_t.bad_count)


def load_corpus(path: str, max_bad_share: float = 0.05, label: Optional[str] = None) -> List[Item]:
    """The items of a corpus: a JSONL file of {"id", "text"} (or BEIR {"_id", "title"?, "text"}) lines, or a
    BEIR folder's corpus.jsonl; duplicate ids keep their first line."""
    kind = detect_format(path, "auto", label)
    file = os.path.join(path, "corpus.jsonl") if kind == "beir" else path
    if kind == "tsv":
        raise DataError(f'{path}: a corpus must be a JSONL file of {{"id", "text"}} lines or a BEIR folder, not TSV{label_suffix(label)}', path)
    tally = LineTally()
    with _read_errors(label):
        items = read_corpus_jsonl(file, tally)
    check_bad_line_share(tally, file, _max_share(max_bad_share, file, label))
    _require_some(len(items), "items", file, tally, label)
    return list(items.values())


__all__ = ["LoadReport", "load_examples", "load_corpus", "parse_corpus_line", "read_pair_lines"]
