"""A small reader of the training-pair formats (README "Data formats"): JSONL pairs
{"query", "positive", "negatives"?, "query_id"?, "item_id"?} (positive/negatives as text or {"id", "text"})
and TSV `query<TAB>positive[<TAB>item_id]`. Items without an id get "t:" + the first 16 hex digits of the
SHA-256 of the NFKC, lower-cased, whitespace-collapsed text (src/core/data/itemId.ts), so in-batch
accidental hits are masked exactly as in the TypeScript trainer. Bad lines are skipped and reported as
`file:line: reason`; more than `maxBadLineShare` of them fail the load.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import unicodedata
from dataclasses import dataclass, field
from typing import List, Optional, Tuple


@dataclass
class Item:
    id: str
    text: str


@dataclass
class Example:
    query: str
    positive: Item
    negatives: List[Item] = field(default_factory=list)
    line: int = 0
    query_id: str = ""


class DataError(Exception):
    pass


def normalise_text(text: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text).lower()).strip()


def text_item_id(text: str) -> str:
    return "t:" + hashlib.sha256(normalise_text(text).encode("utf-8")).hexdigest()[:16]


def _item(value, label: str, fallback: Optional[str] = None, fallback_field: str = "item_id") -> Item:
    if isinstance(value, str):
        text, own = value, None
    elif isinstance(value, dict) and isinstance(value.get("text"), str):
        text, own = value["text"], value.get("id")
        if own is not None and not isinstance(own, (str, int)):
            raise ValueError(f"{label}.id must be a string")
        own = None if own is None else str(own)
    else:
        raise ValueError(f'{"field " + chr(34) + "positive" + chr(34) if label == "positive" else label} must be a string or an object with "text"')
    if not text.strip():
        raise ValueError(f"empty {label}")
    if own is not None and fallback is not None and own != fallback:
        raise ValueError(f'field "{fallback_field}" ("{fallback}") differs from positive.id ("{own}")')
    return Item(own or fallback or text_item_id(text), text)


# Fields read as the positive's item id / the query id, in this order: the first present one is used
# (the same lists as ITEM_ID_FIELDS / QUERY_ID_FIELDS in src/core/data/formats.ts).
ITEM_ID_FIELDS = ("item_id", "positive_id", "pos_id", "doc_id", "corpus_id", "itemId", "positiveId")
QUERY_ID_FIELDS = ("query_id", "qid", "queryId")


def _first_present(obj: dict, keys: tuple) -> Optional[str]:
    return next((k for k in keys if obj.get(k) is not None), None)


def parse_jsonl_line(text: str) -> Example:
    obj = json.loads(text)
    if not isinstance(obj, dict):
        raise ValueError("a line must be a JSON object")
    if not isinstance(obj.get("query"), str) or not obj["query"].strip():
        raise ValueError('missing or empty field "query"')
    if "positive" not in obj:
        raise ValueError('missing field "positive"')
    id_field = _first_present(obj, ITEM_ID_FIELDS) or "item_id"
    iid = obj.get(id_field)
    pos = _item(obj["positive"], "positive", None if iid is None else str(iid), id_field)
    negs = []
    for i, n in enumerate(obj.get("negatives") or []):
        neg = _item(n, f"negatives[{i}]")
        if neg.id == pos.id:
            raise ValueError(f'negatives[{i}] is the positive item itself (id "{pos.id}")')
        negs.append(neg)
    qid_field = _first_present(obj, QUERY_ID_FIELDS)
    qid = None if qid_field is None else obj.get(qid_field)
    return Example(obj["query"], pos, negs, query_id="" if qid is None else str(qid))


def parse_tsv_line(text: str) -> Example:
    cols = text.split("\t")
    if len(cols) < 2 or len(cols) > 3:
        raise ValueError(f"expected 2 or 3 tab-separated columns (query, positive[, positive id]), got {len(cols)}")
    if not cols[0].strip():
        raise ValueError("empty query")
    if not cols[1].strip():
        raise ValueError("empty positive")
    if len(cols) == 3 and not cols[2].strip():
        raise ValueError("empty positive id (column 3)")
    return Example(cols[0], Item(cols[2] if len(cols) == 3 else text_item_id(cols[1]), cols[1]))


def detect_format(path: str, fmt: str) -> str:
    if fmt != "auto":
        return fmt
    if os.path.isdir(path):
        raise DataError(f"{path}: a folder (BEIR?) is not read by the PyTorch trainer")
    return "tsv" if path.lower().endswith((".tsv", ".txt")) else "jsonl"


def load_examples(path: str, fmt: str = "auto", max_bad_share: float = 0.05) -> Tuple[List[Example], List[str]]:
    """Examples of a JSONL or TSV pairs file and the `file:line: reason` of its bad lines."""
    kind = detect_format(path, fmt)
    examples: List[Example] = []
    bad: List[str] = []
    counted = 0
    try:
        f = open(path, "rb")
    except OSError as e:
        raise DataError(f"{path}: {e.strerror}") from e
    with f:
        first = True
        for n, raw in enumerate(f, 1):
            try:
                text = raw.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError:
                counted += 1
                bad.append(f"{path}:{n}: not valid UTF-8")
                continue
            if n == 1 and text.startswith("\ufeff"):
                text = text[1:]
            if not text.strip():
                continue
            if kind == "tsv" and first:
                first = False
                cols = text.split("\t")
                if len(cols) >= 2 and cols[0].strip().lower() == "query" and cols[1].strip().lower().startswith("positive"):
                    continue
            counted += 1
            try:
                ex = parse_tsv_line(text) if kind == "tsv" else parse_jsonl_line(text)
                ex.line = n
                ex.query_id = ex.query_id or f"{os.path.basename(path)}:{n}"
                examples.append(ex)
            except ValueError as e:
                bad.append(f"{path}:{n}: {e}")
    if counted and len(bad) / counted > max_bad_share:
        raise DataError(f"{path}: {len(bad)} of {counted} lines are bad (more than maxBadLineShare {max_bad_share}); first: {bad[0]}")
    return examples, bad


def load_corpus(path: str, max_bad_share: float = 0.05) -> List[Item]:
    """Items of a corpus JSONL file: {"id", "text"} or BEIR's {"_id", "title"?, "text"} (title + " " + text)."""
    items: List[Item] = []
    bad = counted = 0
    try:
        f = open(path, "rb")
    except OSError as e:
        raise DataError(f"{path}: {e.strerror}") from e
    with f:
        for raw in f:
            text = raw.decode("utf-8", "replace").strip().lstrip("\ufeff")
            if not text:
                continue
            counted += 1
            try:
                obj = json.loads(text)
                iid = obj.get("id", obj.get("_id"))
                body = obj["text"]
                title = obj.get("title") or ""
                full = f"{title} {body}" if title.strip() else body
                if iid is None or not str(full).strip():
                    raise ValueError
                items.append(Item(str(iid), full))
            except (ValueError, KeyError, TypeError, AttributeError):
                bad += 1
    if counted and bad / counted > max_bad_share:
        raise DataError(f"{path}: {bad} of {counted} corpus lines are bad (more than maxBadLineShare {max_bad_share})")
    return items
