"""The repository's JSON schemas, the one source of what the TypeScript and the Python code share:
schemas/experiment.schema.json (the config's keys, bounds and defaults; src/core/config/ validates with it
too), schemas/data-formats.json (the data readers' rule tables: shape names, id field aliases, the line index format) and
schemas/run-events.schema.json (meta.json and the lines of events.jsonl, generated from
src/core/runs/eventSchema.ts by `npm run -s gen:checks`). All ship beside python/ in the extension.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from typing import Any, Dict

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCHEMAS_DIR = os.path.join(REPO_ROOT, "schemas")
EXPERIMENT_SCHEMA_PATH = os.path.join(SCHEMAS_DIR, "experiment.schema.json")
RUN_EVENTS_SCHEMA_PATH = os.path.join(SCHEMAS_DIR, "run-events.schema.json")
DATA_FORMATS_PATH = os.path.join(SCHEMAS_DIR, "data-formats.json")


@lru_cache(maxsize=None)
def _load(path: str) -> Dict[str, Any]:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def experiment_schema() -> Dict[str, Any]:
    """schemas/experiment.schema.json (a fresh copy: callers may fill defaults into what they read)."""
    return json.loads(json.dumps(_load(EXPERIMENT_SCHEMA_PATH)))


def run_events_schema() -> Dict[str, Any]:
    """schemas/run-events.schema.json: `definitions.meta`, one definition per event type, `oneOf` them for a line."""
    return _load(RUN_EVENTS_SCHEMA_PATH)


def experiment_defaults(*section: str) -> Dict[str, Any]:
    """The default of every property of the config object at `section`, e.g. ("loss",) or ("diagnostics", "collapse")."""
    node = _load(EXPERIMENT_SCHEMA_PATH)
    for key in section:
        node = node["properties"][key]
    return json.loads(json.dumps({k: v["default"] for k, v in node["properties"].items()}))


def data_format_rules() -> Dict[str, Any]:
    """schemas/data-formats.json: the record parsers' rule tables and the `.rlens-index` format (src/core/data/ reads it too)."""
    return _load(DATA_FORMATS_PATH)
