"""The record shapes a data line can have, and how one record (one line) becomes training pairs: the Python
twin of src/core/data/formats.ts, with the same rules and the same messages. The rule tables (shape names, id
field aliases, forced shapes) are read from schemas/data-formats.json, which the TypeScript reader imports too.

JSONL shapes (auto-detected from the first record that is a JSON object, or forced by data.format):
  pairs                  {"query", "positive", "negatives"?, "query_id"?, "item_id"?}
  bge                    FlagEmbedding / BGE {"query", "pos": [..], "neg": [..]}: one pair per positive
  sentence-transformers  {"anchor", "positive", "negative"? | "negative_1".."negative_n"?}
  fields                 data.fields: any field names mapped onto query / positive / negatives / ids
TSV shapes:
  tsv-pairs              query \\t positive [\\t item id]
  msmarco-triples        query \\t positive \\t negative

A parser raises LineFault for a bad line (the reason is counted and shown as `file:line: reason`) and
DataError for a file whose first record matches no known shape.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Dict, List, Optional

from ..schemas import data_format_rules

RULES = data_format_rules()
SHAPE_NAMES: Dict[str, str] = RULES["shapeNames"]
ONE_PAIR_SHAPES = frozenset(RULES["onePairShapes"])
ITEM_ID_FIELDS = tuple(RULES["itemIdFields"])
QUERY_ID_FIELDS = tuple(RULES["queryIdFields"])
_EXPECTED_SHAPES: str = RULES["expectedShapes"]
_SHAPE_HINTS = tuple(RULES["shapeHints"])
_FORCED_SHAPES: Dict[str, str] = RULES["forcedShapes"]

# JavaScript's whitespace (String.prototype.trim, regex \s): Python's str.strip() and re's \s differ (\x1c-\x1f, \x85, U+FEFF).
JS_WHITESPACE = "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_JS_WS_RUN = re.compile(f"[{re.escape(JS_WHITESPACE)}]+")
_TEXT_COLUMN = re.compile(f"[^{re.escape(JS_WHITESPACE)}][{re.escape(JS_WHITESPACE)}]+[^{re.escape(JS_WHITESPACE)}]")


class DataError(Exception):
    """Data that cannot be loaded at all; `file` (absolute) and `line` (1-based, when one line is to blame)."""

    def __init__(self, message: str, file: str = "", line: Optional[int] = None):
        super().__init__(message)
        self.file = file
        self.line = line


class LineFault(ValueError):
    """The reason one line is unusable (a bad line)."""


@dataclass
class Item:
    id: str
    text: str
    file: str = ""
    line: int = 0


@dataclass
class Example:
    query: str
    positive: Item
    negatives: List[Item] = field(default_factory=list)
    line: int = 0
    query_id: str = ""
    file: str = ""


def is_blank(text: str) -> bool:
    return not text.strip(JS_WHITESPACE)


def normalise_text(text: str) -> str:
    """NFKC, lower case, whitespace collapsed and trimmed (src/core/data/itemId.ts)."""
    return _JS_WS_RUN.sub(" ", unicodedata.normalize("NFKC", text).lower()).strip(JS_WHITESPACE)


def text_item_id(text: str) -> str:
    """"t:" + the first 16 hex digits of the SHA-256 of the normalised text."""
    return "t:" + hashlib.sha256(normalise_text(text).encode("utf-8")).hexdigest()[:16]


def kind_of(value: Any) -> str:
    """A JSON value's kind as JavaScript's typeof names it ("null", "array", "string", "number", "boolean", "object")."""
    if value is None:
        return "null"
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return "object"


def _reject_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def parse_json_object(text: str) -> dict:
    """One line as a JSON object (NaN/Infinity refused, as JSON.parse does); numbers as JavaScript reads them."""
    try:
        value = json.loads(text, parse_constant=_reject_constant, parse_int=_js_int)
    except ValueError as e:
        raise LineFault(f"invalid JSON: {e}") from None
    if not isinstance(value, dict):
        raise LineFault(f"expected a JSON object, got {kind_of(value)}")
    return value


def _js_int(digits: str):
    n = int(digits)
    return n if abs(n) <= 2**53 else float(n)


def js_number_string(value) -> str:
    """String(number) in JavaScript for a finite number: the shortest round-trip digits, positional unless the
    decimal exponent is ≥ 21 or ≤ -7 (12.0 → "12", 1.2345678901234567e19 → "12345678901234567000", 1e-7 → "1e-7")."""
    if isinstance(value, int) and abs(value) <= 2**53:
        return str(value)
    x = float(value)
    if x == 0:
        return "0"
    sign, digit_tuple, exp = Decimal(repr(x)).normalize().as_tuple()
    digits = "".join(map(str, digit_tuple))
    k, n = len(digits), int(exp) + len(digits)
    minus = "-" if sign else ""
    if k <= n <= 21:
        return minus + digits + "0" * (n - k)
    if 0 < n <= 21:
        return minus + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return minus + "0." + "0" * (-n) + digits
    e = n - 1
    mantissa = digits if k == 1 else digits[0] + "." + digits[1:]
    return f"{minus}{mantissa}e{'+' if e > 0 else '-'}{abs(e)}"


def optional_id(obj: dict, key: str, label: Optional[str] = None) -> Optional[str]:
    label = key if label is None else label
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return js_number_string(value)
    if not isinstance(value, str):
        raise LineFault(f'field "{label}" must be a string, got {kind_of(value)}')
    if not value.strip(JS_WHITESPACE):
        raise LineFault(f'empty field "{label}"')
    return value


def required_string(obj: dict, key: str) -> str:
    value = obj.get(key, ...)
    if value is ...:
        raise LineFault(f'missing field "{key}"')
    if not isinstance(value, str):
        raise LineFault(f'field "{key}" must be a string, got {kind_of(value)}')
    return value


def optional_string(obj: dict, key: str) -> Optional[str]:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise LineFault(f'field "{key}" must be a string, got {kind_of(value)}')
    return value


def _first_present(obj: dict, keys) -> Optional[str]:
    return next((k for k in keys if obj.get(k) is not None), None)


def _pair_ids_note(obj: dict) -> str:
    item = _first_present(obj, ITEM_ID_FIELDS)
    query = _first_present(obj, QUERY_ID_FIELDS)
    positive_has_id = isinstance(obj.get("positive"), dict) and "id" in obj["positive"]
    if item:
        note = f'item ids from "{item}"'
    elif positive_has_id:
        note = "item ids from positive.id"
    else:
        note = f"no item-id field ({', '.join(ITEM_ID_FIELDS[:3])}, …): items are keyed by their text; data.fields.itemId names another field"
    query_note = f'; query ids from "{query}"' if query else ""
    return f" ({note}{query_note})"


def _line_query_id(file: str, line: int) -> str:
    return f"{os.path.basename(file)}:{line}"


def parse_item_ref(value: Any, label: str, file: str, line: int, fallback_id: Optional[str] = None, fallback_field: str = "item_id") -> Item:
    """A plain string (the text) or {"id"?, "text"}; `fallback_id` is used when the object has no id of its own."""
    own = None
    if isinstance(value, str):
        text = value
    elif isinstance(value, dict) and isinstance(value.get("text"), str):
        text = value["text"]
        own = optional_id(value, "id", f"{label}.id")
    else:
        raise LineFault(f'{label if "[" in label else f"field {json.dumps(label)}"} must be a string or an object with "text"')
    if is_blank(text):
        raise LineFault(f"empty {label}")
    if own is not None and fallback_id is not None and own != fallback_id:
        raise LineFault(f'field "{fallback_field}" ("{fallback_id}") differs from {label}.id ("{own}")')
    return Item(own if own is not None else fallback_id if fallback_id is not None else text_item_id(text), text, file, line)


def _required_text(obj: dict, key: str) -> str:
    value = obj.get(key)
    if value is None:
        raise LineFault(f'missing field "{key}"')
    if not isinstance(value, str):
        raise LineFault(f'field "{key}" must be a string, got {kind_of(value)}')
    if is_blank(value):
        raise LineFault(f"empty {key}")
    return value


def _item_list(obj: dict, key: str, file: str, line: int) -> List[Item]:
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        return [parse_item_ref(value, key, file, line)]
    return [parse_item_ref(v, f"{key}[{i}]", file, line) for i, v in enumerate(value)]


def _examples_of(query_id: str, query: str, positives: List[Item], negatives: List[Item], neg_label: str, file: str, line: int) -> List[Example]:
    ids = {p.id for p in positives}
    which = "the positive item" if len(positives) == 1 else "a positive item"
    for i, n in enumerate(negatives):
        if n.id in ids:
            raise LineFault(f'{neg_label}[{i}] is {which} itself (id "{n.id}")')
    return [Example(query, p, negatives, line, query_id, file) for p in positives]


def _parse_pairs(obj: dict, file: str, line: int) -> List[Example]:
    query = _required_text(obj, "query")
    if "positive" not in obj:
        raise LineFault('missing field "positive"')
    qf = _first_present(obj, QUERY_ID_FIELDS)
    qid = (optional_id(obj, qf) if qf else None) or _line_query_id(file, line)
    itf = _first_present(obj, ITEM_ID_FIELDS) or "item_id"
    positive = parse_item_ref(obj["positive"], "positive", file, line, optional_id(obj, itf), itf)
    if obj.get("negatives") is not None and not isinstance(obj["negatives"], list):
        raise LineFault('field "negatives" must be an array')
    return _examples_of(qid, query, [positive], _item_list(obj, "negatives", file, line), "negatives", file, line)


def _parse_bge(obj: dict, file: str, line: int) -> List[Example]:
    query = _required_text(obj, "query")
    positives = _item_list(obj, "pos", file, line)
    if not positives:
        raise LineFault('missing field "pos"' if "pos" not in obj else 'field "pos" holds no positive')
    qid = optional_id(obj, "query_id") or _line_query_id(file, line)
    return _examples_of(qid, query, positives, _item_list(obj, "neg", file, line), "neg", file, line)


def _parse_sentence_transformers(obj: dict, file: str, line: int) -> List[Example]:
    query = _required_text(obj, "anchor")
    if obj.get("positive") is None:
        raise LineFault('missing field "positive"')
    positive = parse_item_ref(obj["positive"], "positive", file, line)
    negatives = _item_list(obj, "negative", file, line)
    i = 1
    while f"negative_{i}" in obj:
        negatives.append(parse_item_ref(obj[f"negative_{i}"], f"negative_{i}", file, line))
        i += 1
    return _examples_of(_line_query_id(file, line), query, [positive], negatives, "negatives", file, line)


def _parse_mapped(obj: dict, file: str, line: int, f: dict) -> List[Example]:
    query = _required_text(obj, f["query"])
    pf, idf = f["positive"], f.get("itemId")
    raw = obj.get(pf)
    if raw is None:
        raise LineFault(f'missing field "{pf}" (data.fields.positive)')
    values = raw if isinstance(raw, list) else [raw]
    ids: List[Optional[str]] = [None] * len(values)
    if idf is not None:
        id_value = obj.get(idf)
        if isinstance(raw, list) and isinstance(id_value, list):
            if len(id_value) != len(raw):
                raise LineFault(f'field "{idf}" holds {len(id_value)} ids for {len(raw)} positives')
            ids = [optional_id({str(i): v}, str(i), f"{idf}[{i}]") for i, v in enumerate(id_value)]
        elif not isinstance(raw, list):
            ids = [optional_id(obj, idf)]
        elif id_value is not None:
            raise LineFault(f'field "{idf}" must be a list of ids beside the list "{pf}"')
    positives = [parse_item_ref(v, f"{pf}[{i}]" if isinstance(raw, list) else pf, file, line, ids[i], idf or "item_id") for i, v in enumerate(values)]
    if not positives:
        raise LineFault(f'field "{pf}" holds no positive')
    qid = (optional_id(obj, f["queryId"]) if f.get("queryId") is not None else None) or _line_query_id(file, line)
    negatives = _item_list(obj, f["negatives"], file, line) if f.get("negatives") is not None else []
    return _examples_of(qid, query, positives, negatives, f.get("negatives") or "negatives", file, line)


def jsonl_shape_of(obj: dict) -> Optional[str]:
    if "query" in obj and "positive" in obj:
        return "pairs"
    if "query" in obj and "pos" in obj:
        return "bge"
    if "anchor" in obj and "positive" in obj:
        return "sentence-transformers"
    return None


def parse_jsonl_record(shape: str, obj: dict, file: str, line: int, fields: Optional[dict] = None) -> List[Example]:
    if shape == "pairs":
        return _parse_pairs(obj, file, line)
    if shape == "bge":
        return _parse_bge(obj, file, line)
    if shape == "sentence-transformers":
        return _parse_sentence_transformers(obj, file, line)
    if shape == "fields" and fields is not None:
        return _parse_mapped(obj, file, line, fields)
    raise ValueError(f"{shape} is not a JSONL shape")


def _tsv_header_shape(cols: List[str]) -> Optional[str]:
    if len(cols) < 2 or cols[0].strip(JS_WHITESPACE).lower() != "query" or not cols[1].strip(JS_WHITESPACE).lower().startswith("positive"):
        return None
    return "msmarco-triples" if len(cols) == 3 and cols[2].strip(JS_WHITESPACE).lower().startswith("negative") else "tsv-pairs"


def parse_tsv_record(shape: str, text: str, file: str, line: int) -> List[Example]:
    cols = text.split("\t")
    if shape == "msmarco-triples":
        if len(cols) != 3:
            raise LineFault(f"expected 3 tab-separated columns (query, positive, negative), got {len(cols)}")
    elif len(cols) < 2 or len(cols) > 3:
        raise LineFault(f"expected 2 or 3 tab-separated columns (query, positive[, positive id]), got {len(cols)}")
    query, positive = cols[0], cols[1]
    third = cols[2] if len(cols) == 3 else None
    if is_blank(query):
        raise LineFault("empty query")
    if is_blank(positive):
        raise LineFault("empty positive")
    qid = _line_query_id(file, line)
    if shape == "msmarco-triples":
        assert third is not None
        if is_blank(third):
            raise LineFault("empty negative (column 3)")
        pos, neg = Item(text_item_id(positive), positive, file, line), Item(text_item_id(third), third, file, line)
        return _examples_of(qid, query, [pos], [neg], "negatives", file, line)
    if third is not None and is_blank(third):
        raise LineFault("empty positive id (column 3)")
    return [Example(query, Item(third if third is not None else text_item_id(positive), positive, file, line), [], line, qid, file)]


def container_of(fmt: str) -> str:
    return "tsv" if fmt in ("tsv", "msmarco") else "jsonl"


class RecordParser:
    """One file's record parser (formats.ts recordParser): `header(text)` for the first non-blank line (True: skip
    it); `parse(text, file, line)` → examples, LineFault for a bad line, DataError for an unknown shape. `shape`
    is the shape found (None until a record decided it) and `how` says why."""

    def __init__(self, fmt: str, fields: Optional[dict] = None, explicit: bool = True):
        self.container = container_of(fmt)
        if fields is not None and self.container == "tsv":
            raise ValueError("data.fields applies to JSONL files only")
        self.fields = fields
        self.shape: Optional[str] = "fields" if fields else (_FORCED_SHAPES.get(fmt) if explicit or fmt != "tsv" else None)
        self.how = "data.fields" if fields else (f'data.format "{fmt}"' if self.shape else "")
        self._first = True

    def _decide(self, shape: str, file: str, line: int, why: str) -> str:
        self.shape = shape
        self.how = f"detected at {os.path.basename(file)}:{line}{why}"
        return shape

    def header(self, text: str) -> bool:
        if self.container != "tsv" or not self._first:
            return False
        self._first = False
        shape = _tsv_header_shape(text.split("\t"))
        if shape is None:
            return False
        if self.shape is None:
            self.shape, self.how = shape, "detected from the header line"
        return True

    def parse(self, text: str, file: str, line: int) -> List[Example]:
        self._first = False
        if self.container == "tsv":
            cols = text.split("\t")
            if self.shape is None and (len(cols) < 2 or len(cols) > 3):
                return parse_tsv_record("tsv-pairs", text, file, line)
            shape = self.shape
            if shape is None:
                if len(cols) == 3 and _TEXT_COLUMN.search(cols[2].strip(JS_WHITESPACE)):
                    shape = self._decide("msmarco-triples", file, line, " (column 3 holds text)")
                else:
                    shape = self._decide("tsv-pairs", file, line, " (column 3 holds an id)" if len(cols) == 3 else "")
            return parse_tsv_record(shape, text, file, line)
        obj = parse_json_object(text)
        shape = self.shape
        if shape is None:
            found = jsonl_shape_of(obj)
            if found is None:
                if "query" in obj:
                    raise LineFault('missing field "positive" (or "pos" for BGE)')
                if "anchor" in obj:
                    raise LineFault('missing field "positive"')
                seen = list(obj)
                if any(k in obj for k in _SHAPE_HINTS):
                    raise LineFault(f"no known shape: saw fields {', '.join(seen)}; {_EXPECTED_SHAPES}")
                raise DataError(f"{file}:{line}: no known shape: saw {'fields ' + ', '.join(seen) if seen else 'no fields'}; {_EXPECTED_SHAPES}", file, line)
            shape = self._decide(found, file, line, _pair_ids_note(obj) if found == "pairs" else "")
        return parse_jsonl_record(shape, obj, file, line, self.fields)


def shape_report(parsers: List[RecordParser]) -> Optional[Dict[str, str]]:
    """The shape of a data set read by one parser per file (formats.ts shapeReport)."""
    decided = [p for p in parsers if p.shape is not None]
    if not decided:
        return None
    first = decided[0]
    distinct: List[RecordParser] = []
    for p in decided:
        if all(q.shape != p.shape for q in distinct):
            distinct.append(p)
    if len(distinct) == 1:
        how = f"{first.how}; the same in {len(decided)} files" if len(decided) > 1 else first.how
        return {"shape": first.shape or "", "how": how, "name": SHAPE_NAMES[first.shape or ""]}
    return {
        "shape": first.shape or "",
        "how": "files differ: " + "; ".join(f"{p.shape} {p.how}" for p in distinct),
        "name": " / ".join(SHAPE_NAMES[p.shape or ""] for p in distinct),
    }
