"""Training and test data for the PyTorch trainer: the data specs of the TypeScript trainer (src/core/data/) with
the same rules and messages — a file, a glob or a list of shards (plain or `.gz`), every record shape (pairs with
their id aliases, BGE, sentence-transformers, data.fields, TSV pairs, MS MARCO triples), BEIR folders — read by
one record parser per file (formats.py, its rule tables shared through schemas/data-formats.json). Training
files are streamed per rank through the shared `.rlens-index` line index (stream.py); test data and corpora are
read into memory (load.py). See docs/data.md.
"""

from .formats import DataError, Example, Item, LineFault, RecordParser, SHAPE_NAMES, normalise_text, shape_report, text_item_id
from .load import LoadReport, load_corpus, load_examples
from .paths import DataFile, describe_data_path, resolve_data_files
from .stream import EpochCounts, StreamedExamples

__all__ = [
    "DataError",
    "DataFile",
    "EpochCounts",
    "Example",
    "Item",
    "LineFault",
    "LoadReport",
    "RecordParser",
    "SHAPE_NAMES",
    "StreamedExamples",
    "describe_data_path",
    "load_corpus",
    "load_examples",
    "normalise_text",
    "resolve_data_files",
    "shape_report",
    "text_item_id",
]
