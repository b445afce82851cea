"""Reads an experiment config (*.rlens.json, JSON with comments) the way src/core/config/ does: the
repository's schemas/experiment.schema.json gives the keys, types, bounds and defaults; `--set key=value`
overrides (value parsed as JSON when it parses, else a string) are applied before validation.

Settings the PyTorch trainer cannot honour are an error naming them (UNSUPPORTED below).
"""

from __future__ import annotations

import json
import math
import os
from typing import Any, Dict, List, Optional, Tuple

from .schemas import EXPERIMENT_SCHEMA_PATH as SCHEMA_PATH
from .schemas import REPO_ROOT
from .towers import tower_problems

RESERVED_SEGMENTS = {"__proto__", "constructor", "prototype"}


class ConfigError(Exception):
    """A config problem; the message names the file and the JSON path (and line:column for syntax)."""


def strip_jsonc(text: str) -> str:
    """JSON with comments and trailing commas → JSON. Comments and trailing commas become spaces (newlines
    kept), so every line and column of the result is that of the original text."""
    out = list(text)
    i, n = 0, len(text)
    last_comma: Optional[int] = None  # a comma not yet followed by a value
    while i < n:
        c = text[i]
        if c == '"':
            last_comma = None
            i += 1
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
            i += 1
        elif c == "/" and i + 1 < n and text[i + 1] == "/":
            while i < n and text[i] != "\n":
                out[i] = " "
                i += 1
        elif c == "/" and i + 1 < n and text[i + 1] == "*":
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            for k in range(i, end):
                if text[k] != "\n":
                    out[k] = " "
            i = end
        elif c == ",":
            last_comma = i
            i += 1
        elif c in "}]":
            if last_comma is not None:
                out[last_comma] = " "
            last_comma = None
            i += 1
        else:
            if not c.isspace():
                last_comma = None
            i += 1
    return "".join(out)


def parse_override(text: str) -> Tuple[List[str], Any]:
    """`a.b=value` → (path, value); value is JSON when it parses, else the string (overrides.ts)."""
    eq = text.find("=")
    if eq <= 0:
        raise ConfigError(f'--set expects key=value, got "{text}"')
    key, raw = text[:eq].strip(), text[eq + 1 :].strip()
    path = key.split(".")
    if any(p == "" for p in path):
        raise ConfigError(f'--set: bad key "{key}" in "{text}"')
    bad = next((p for p in path if p in RESERVED_SEGMENTS), None)
    if bad is not None:
        raise ConfigError(f'--set {text}: "{bad}" is not allowed in a key')
    try:
        value = json.loads(raw)
    except ValueError:
        value = raw
    return path, value


def apply_override(target: Dict, path: List[str], value: Any, text: str) -> None:
    node = target
    for key in path[:-1]:
        nxt = node.get(key)
        if nxt is None:
            node[key] = nxt = {}
        elif not isinstance(nxt, dict):
            raise ConfigError(f'--set {text}: "{key}" is not an object in the config')
        node = nxt
    node[path[-1]] = value


def _type_ok(value: Any, t: str) -> bool:
    if t == "null":
        return value is None
    if t == "boolean":
        return isinstance(value, bool)
    if t == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or (isinstance(value, float) and value.is_integer())
    if t == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if t == "string":
        return isinstance(value, str)
    if t == "object":
        return isinstance(value, dict)
    if t == "array":
        return isinstance(value, list)
    return True


def _describe(schema: Dict) -> str:
    """One alternative of a oneOf in words: "integer >= 0", "\"auto\"", "string"."""
    if "const" in schema:
        return json.dumps(schema["const"])
    t = schema.get("type", "value")
    words = " or ".join(t) if isinstance(t, list) else t
    if "minimum" in schema:
        words += f" >= {schema['minimum']}"
    return words


def validate(value: Any, schema: Dict, path: str, problems: List[str]) -> Any:
    """Checks `value` against the (draft-07 subset used by the) schema and fills defaults; returns the value."""
    if "oneOf" in schema:
        # Exactly one alternative must hold (evaluation.every: an integer >= 0 or "auto"; data.train: a string or a list).
        fits = []
        for alt in schema["oneOf"]:
            alt_problems: List[str] = []
            validate(json.loads(json.dumps(value)), alt, path, alt_problems)
            fits.append(not alt_problems)
        if fits.count(True) != 1:
            problems.append(f"{path}: must be one of: {', '.join(_describe(alt) for alt in schema['oneOf'])}")
            return value
    if "const" in schema and value != schema["const"]:
        problems.append(f"{path}: must be {json.dumps(schema['const'])}")
    types = schema.get("type")
    if types is not None:
        ts = types if isinstance(types, list) else [types]
        if not any(_type_ok(value, t) for t in ts):
            problems.append(f"{path}: must be {' or '.join(ts)}")
            return value
    if "enum" in schema and value not in schema["enum"]:
        problems.append(f"{path}: must be one of {', '.join(json.dumps(e) for e in schema['enum'])}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            problems.append(f"{path}: must be >= {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            problems.append(f"{path}: must be <= {schema['maximum']}")
        if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
            problems.append(f"{path}: must be > {schema['exclusiveMinimum']}")
        if "exclusiveMaximum" in schema and value >= schema["exclusiveMaximum"]:
            problems.append(f"{path}: must be < {schema['exclusiveMaximum']}")
    if isinstance(value, str) and "minLength" in schema and len(value) < schema["minLength"]:
        problems.append(f"{path}: must not be shorter than {schema['minLength']} characters")
    if isinstance(value, dict) and "properties" in schema:
        props = schema["properties"]
        for req in schema.get("required", []):
            if req not in value:
                problems.append(f"{path}: missing required property \"{req}\"")
        for k in list(value):
            if k in props:
                value[k] = validate(value[k], props[k], f"{path}.{k}", problems)
            elif schema.get("additionalProperties") is False:
                problems.append(f'{path}.{k}: unknown property "{k}"')
        for k, sub in props.items():
            if k not in value and "default" in sub:
                value[k] = validate(json.loads(json.dumps(sub["default"])), sub, f"{path}.{k}", problems)
    return value


# Settings the PyTorch trainer does not implement: (json path, predicate on the value, why).
UNSUPPORTED = [
    ("backend", lambda v: v != "auto", "a TensorFlow.js backend; the PyTorch trainer picks CUDA or CPU itself (leave it \"auto\")"),
]


def _get(cfg: Dict, dotted: str) -> Any:
    node: Any = cfg
    for k in dotted.split("."):
        if not isinstance(node, dict) or k not in node:
            return None
        node = node[k]
    return node


#: Learned α, δ₀, τ₀ (`loss.trainable`): value = floor + softplus(θ) (src/core/losses/learnedHyper.ts says why).
LEARNED_FLOORS: Dict[str, float] = {"alpha": 0.0, "delta0": 0.0, "tau0": 0.01}


def learned_hyper_problem(loss: Dict[str, Any], name: str) -> Optional[str]:
    """Why `name` cannot be learned with this loss (None when it can): learnedHyper.ts' learnedHyperProblem."""
    adap_tau = loss["type"] == "softmax" and loss.get("temperatureRule") == "adap-tau"
    if name == "alpha":
        if adap_tau:
            return 'α is not used by Adap-τ (loss.temperatureRule "adap-tau"): remove "alpha"'
        return None if loss["adaptive"] else 'α is used only by the adaptive loss (loss.adaptive is false): remove "alpha" or set loss.adaptive to true'
    if name == "delta0":
        if loss["type"] != "margin":
            return 'δ₀ belongs to the margin loss (loss.type is "softmax"): learn "tau0" instead'
        if not loss["adaptive"]:
            return "δ₀ is used only by the adaptive margin loss (loss.adaptive is false; the fixed loss uses loss.margin)"
        return None if loss["delta0"] > 0 else "a learned δ₀ starts from loss.delta0, which must be > 0 (softplus never reaches 0)"
    if name != "tau0":
        return f'unknown hyper-parameter "{name}"; known: alpha, delta0, tau0'
    if loss["type"] != "softmax":
        return 'τ₀ belongs to the softmax loss (loss.type is "margin"): learn "delta0" instead'
    if not loss["adaptive"] and not adap_tau:
        return "τ₀ is used only by the adaptive softmax loss (loss.adaptive is false; the fixed loss uses loss.temperature)"
    return None if loss["tau0"] > LEARNED_FLOORS["tau0"] else f"a learned τ₀ starts from loss.tau0, which must be > its floor {LEARNED_FLOORS['tau0']}"


def loss_problems(cfg: Dict) -> List[str]:
    """loss.trainable names only what the loss uses; "adap-tau" only with the softmax loss (loadConfig.ts' checkLearnedHyper)."""
    loss = cfg.get("loss") or {}
    problems = []
    if loss.get("temperatureRule") == "adap-tau" and loss.get("type") != "softmax":
        problems.append('$.loss.temperatureRule: "adap-tau" sets the temperature of the softmax loss; loss.type is "margin" (use "batch-similarity" or loss.type "softmax")')
    for i, name in enumerate(loss.get("trainable") or []):
        why = learned_hyper_problem(loss, name)
        if why:
            problems.append(f"$.loss.trainable[{i}]: {why}")
    return problems



def load_config(path: str, overrides: Optional[List[str]] = None, schema_path: str = SCHEMA_PATH) -> Dict:
    """The config with defaults applied; raises ConfigError listing every problem as `file: json.path: message`."""
    try:
        raw = open(path, "rb").read()
    except OSError as e:
        raise ConfigError(f"{path}: cannot read the config: {e.strerror}") from e
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise ConfigError(f"{path}:{line}: the config is not valid UTF-8") from e
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        cfg = json.loads(strip_jsonc(text))
    except json.JSONDecodeError as e:
        raise ConfigError(f"{path}:{e.lineno}:{e.colno}: {e.msg}") from e
    if not isinstance(cfg, dict):
        raise ConfigError(f"{path}: the config must be a JSON object")
    for o in overrides or []:
        p, v = parse_override(o)
        apply_override(cfg, p, v, o)
    with open(schema_path, encoding="utf-8") as f:
        schema = json.load(f)
    problems: List[str] = []
    cfg = validate(cfg, schema, "$", problems)
    for key, bad, why in UNSUPPORTED:
        v = _get(cfg, key)
        if v is not None and bad(v):
            problems.append(f"$.{key}: {json.dumps(v)} is not supported by the PyTorch trainer: {why}")
    if not problems:
        problems.extend(loss_problems(cfg))
        problems.extend(tower_problems(cfg["model"]))
    if problems:
        raise ConfigError("\n".join(f"{path}: {p}" for p in problems))
    cfg.pop("$schema", None)
    return cfg


def resolve_path(config_path: str, p: str) -> str:
    """A config path relative to the config file's folder."""
    return p if os.path.isabs(p) else os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(config_path)), p))


def repo_version() -> str:
    """The version in the repository's package.json ("unknown" when it cannot be read)."""
    try:
        with open(os.path.join(REPO_ROOT, "package.json"), encoding="utf-8") as f:
            return str(json.load(f)["version"])
    except (OSError, ValueError, KeyError):
        return "unknown"
