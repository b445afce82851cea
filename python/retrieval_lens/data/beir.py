"""BEIR folders (src/core/data/beir.ts, corpusJsonl.ts, keyedJsonl.ts): corpus.jsonl `{"_id", "title"?, "text"}`,
queries.jsonl `{"_id", "text"}` and qrels/<split>.tsv `query-id \\t corpus-id \\t score` — one example per
relevant pair (score > 0), each file counted in its own tally (per role), with the TypeScript reader's messages."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Tuple, TypeVar

from .formats import DataError, Example, Item, LineFault, is_blank, optional_id, optional_string, parse_json_object, required_string
from .lines import read_lines
from .paths import label_suffix, require_file
from .tally import LineTally

T = TypeVar("T")


@dataclass
class BeirFiles:
    corpus: str
    queries: str
    qrels: str


def record_id(obj: dict) -> str:
    rid = optional_id(obj, "_id")
    if rid is None:
        rid = optional_id(obj, "id")
    if rid is None:
        raise LineFault('missing field "_id" (or "id")')
    return rid


def parse_corpus_line(text: str, file: str, line: int) -> Item:
    """`{"id", "text"}` or BEIR's `{"_id", "title"?, "text"}`: title + " " + text when the title is not blank."""
    obj = parse_json_object(text)
    rid = record_id(obj)
    body = required_string(obj, "text")
    title = optional_string(obj, "title")
    full = (title if is_blank(body) else f"{title} {body}") if title is not None and not is_blank(title) else body
    if is_blank(full):
        raise LineFault("empty text")
    return Item(rid, full, file, line)


def read_keyed_jsonl(file: str, tally: LineTally, parse: Callable[[str, int], Tuple[str, T]]) -> Dict[str, T]:
    """Records by id in file order, the first occurrence of an id winning; bad lines counted in `tally`."""
    records: Dict[str, T] = {}
    for text, line, fault in read_lines(file):
        if is_blank(text):
            continue
        tally.lines_read += 1
        try:
            if fault:
                raise LineFault(fault)
            rid, value = parse(text, line)
            records.setdefault(rid, value)
        except LineFault as e:
            tally.add_bad(file, line, str(e))
    return records


def read_corpus_jsonl(file: str, tally: LineTally) -> Dict[str, Item]:
    def parse(text: str, line: int):
        item = parse_corpus_line(text, file, line)
        return item.id, item

    return read_keyed_jsonl(file, tally, parse)


def read_queries(file: str, tally: LineTally) -> Dict[str, Tuple[str, int]]:
    def parse(text: str, line: int):
        obj = parse_json_object(text)
        rid = record_id(obj)
        query = required_string(obj, "text")
        if is_blank(query):
            raise LineFault("empty text")
        return rid, (query, line)

    return read_keyed_jsonl(file, tally, parse)


def _js_number(text: str) -> float:
    """Number(text) for a trimmed qrels score (NaN when it is not a number)."""
    try:
        return float(text) if text.lower() not in ("nan", "inf", "-inf", "+inf", "infinity", "-infinity", "+infinity") else float("nan")
    except ValueError:
        return float("nan")


def read_qrels(file: str, queries_file: str, queries: Dict[str, Tuple[str, int]], corpus: Dict[str, Item], tally: LineTally) -> List[Example]:
    examples: List[Example] = []
    seen: Dict[str, int] = {}
    first = True
    for text, line, fault in read_lines(file):
        if is_blank(text):
            continue
        cols = text.split("\t")
        if first:
            first = False
            if cols[0].strip().lower() == "query-id":
                continue
        tally.lines_read += 1
        try:
            if fault:
                raise LineFault(fault)
            if len(cols) != 3:
                raise LineFault(f"expected 3 tab-separated columns (query-id, corpus-id, score), got {len(cols)}")
            qid, iid, score_text = (c.strip() for c in cols)
            if not qid:
                raise LineFault("empty query-id")
            if not iid:
                raise LineFault("empty corpus-id")
            score = _js_number(score_text) if score_text else float("nan")
            if score != score or score in (float("inf"), float("-inf")):
                raise LineFault(f'score "{score_text}" is not a number')
            if qid not in queries:
                raise LineFault(f'unknown query-id "{qid}" (not in queries.jsonl)')
            if iid not in corpus:
                raise LineFault(f'unknown corpus-id "{iid}" (not in corpus.jsonl)')
            key = json.dumps([qid, iid])
            if key in seen:
                raise LineFault(f"repeats the pair of line {seen[key]}")
            seen[key] = line
            if score > 0:
                q_text, q_line = queries[qid]
                examples.append(Example(q_text, corpus[iid], [], q_line, qid, queries_file))
        except LineFault as e:
            tally.add_bad(file, line, str(e))
    return examples


def resolve_beir_files(folder: str, split: Optional[str], label: Optional[str] = None) -> BeirFiles:
    """The files of a BEIR folder for `split`, checked to exist; without a split the only qrels/*.tsv."""
    suffix = label_suffix(label)
    qrels_dir = os.path.join(folder, "qrels")
    available = sorted(n[: -len(".tsv")] for n in os.listdir(qrels_dir) if n.lower().endswith(".tsv")) if os.path.isdir(qrels_dir) else []
    listed = ", ".join(available) if available else "none"
    if split is None:
        if len(available) != 1:
            what = "no qrels/*.tsv" if not available else f"several qrels splits ({listed})"
            raise DataError(f"{folder} has {what}; set split{suffix}", folder)
        split = available[0]
    files = BeirFiles(os.path.join(folder, "corpus.jsonl"), os.path.join(folder, "queries.jsonl"), os.path.join(qrels_dir, f"{split}.tsv"))
    require_file(files.corpus, label)
    require_file(files.queries, label)
    if not os.path.exists(files.qrels):
        raise DataError(f"data file not found: {files.qrels} (qrels splits: {listed}){suffix}", files.qrels)
    require_file(files.qrels, label)
    return files
