"""Data parity, Python half: every case of test/fixtures/data-parity/cases.json (every record shape, shards, gzip,
BEIR, bad lines, the located errors) read by the Python reader gives what the TypeScript reader gave
(expected.json, written by generate.ts; test/unit/dataParity.test.ts keeps it current): the same examples (ids,
texts, negatives, file:line), bad lines, detected shape and error messages. One difference is allowed: after
"invalid JSON: " the parser's own words (V8's and Python's json differ)."""

import json
import os
import re

import pytest

from conftest import REPO
from retrieval_lens.data import DataError, load_examples

DIR = os.path.join(REPO, "test", "fixtures", "data-parity")
CASES = json.load(open(os.path.join(DIR, "cases.json"), encoding="utf-8"))["cases"]
EXPECTED = json.load(open(os.path.join(DIR, "expected.json"), encoding="utf-8"))
INVALID_JSON = re.compile(r"invalid JSON: .*$")


def rel(file: str) -> str:
    return os.path.relpath(file, DIR).replace(os.sep, "/")


def same_json_words(text: str) -> str:
    return INVALID_JSON.sub("invalid JSON: …", text)


def py_case(c: dict) -> dict:
    try:
        examples, report = load_examples(
            c["path"], c.get("format", "auto"), c.get("maxBadLineShare", 0.05), c.get("fields"), c.get("split"), DIR, "data.train"
        )
    except DataError as e:
        return {"error": same_json_words(str(e).replace(DIR, "<dir>"))}
    return {
        "format": report.format,
        "shape": report.shape,
        "linesRead": report.tally.lines_read,
        "badCount": report.tally.bad_count,
        "badLines": [same_json_words(f"{rel(f)}:{n}: {r}") for f, n, r in report.tally.bad_lines],
        "examples": [
            {
                "queryId": e.query_id,
                "query": e.query,
                "positive": {"id": e.positive.id, "text": e.positive.text},
                "negatives": [{"id": n.id, "text": n.text} for n in e.negatives],
                "at": f"{rel(e.file)}:{e.line}",
            }
            for e in examples
        ],
    }


def ts_case(name: str) -> dict:
    want = EXPECTED[name]
    if "error" in want:
        return {"error": same_json_words(want["error"])}
    return {**want, "badLines": [same_json_words(b) for b in want["badLines"]]}


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_the_python_reader_gives_what_the_typescript_reader_gives(case) -> None:
    assert py_case(case) == ts_case(case["name"])


def test_the_cases_are_those_of_expected_json() -> None:
    assert sorted(EXPECTED) == sorted(c["name"] for c in CASES)
