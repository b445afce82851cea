"""Pairs records name their ids in several common ways: the first present of ITEM_ID_FIELDS / QUERY_ID_FIELDS is
used, as in the TypeScript reader (src/core/data/formats.ts, test/unit/dataFormats.test.ts)."""
import json

import pytest

from retrieval_lens.data import LineFault, RecordParser


def parse_jsonl_line(text: str):
    return RecordParser("jsonl").parse(text, "/data/pairs.jsonl", 1)[0]


def test_positive_id_and_qid_are_used() -> None:
    ex = parse_jsonl_line(json.dumps({"query": "red shoe", "positive": "Acme Red Shoe", "positive_id": 77, "qid": "Q1"}))
    assert (ex.query_id, ex.positive.id) == ("Q1", "77")
    ex = parse_jsonl_line(json.dumps({"query": "red shoe", "positive": "Acme", "item_id": "a", "positive_id": "b"}))
    assert ex.positive.id == "a"


def test_a_differing_id_names_its_field() -> None:
    with pytest.raises(LineFault, match='field "positive_id" \\("sku-9"\\) differs from positive.id \\("sku-3"\\)'):
        parse_jsonl_line(json.dumps({"query": "hat", "positive": {"id": "sku-3", "text": "Wool Hat"}, "positive_id": "sku-9"}))
