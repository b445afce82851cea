"""The config reader: the repository's schema (keys, types, bounds, defaults), comments, --set, and settings
the PyTorch trainer does not implement as errors naming them."""

import json
import os

import pytest

from conftest import REPO
from retrieval_lens.config import ConfigError, load_config, strip_jsonc

SHOP = os.path.join(REPO, "examples", "shop", "shop.rlens.json")


def write(tmp_path, text):
    p = tmp_path / "x.rlens.json"
    p.write_text(text, encoding="utf-8")
    return str(p)


def test_the_bundled_config_loads_with_the_schema_defaults():
    cfg = load_config(SHOP, ["loss.alpha=0.8", "training.steps=7"])
    schema = json.load(open(os.path.join(REPO, "schemas", "experiment.schema.json")))
    assert cfg["loss"]["alpha"] == 0.8 and cfg["training"]["steps"] == 7
    assert cfg["model"]["vocabBuckets"] == 65536  # from the file
    assert cfg["model"]["embeddingDim"] == schema["properties"]["model"]["properties"]["embeddingDim"]["default"]
    assert cfg["diagnostics"]["collapse"]["separatedRatio"] == 1.5


def test_comments_and_trailing_commas_are_stripped_but_not_inside_strings(tmp_path):
    text = '{\n  // a comment\n  "name": "a // b /* c */", /* block\n comment */\n  "data": {"train": "t.jsonl",},\n}\n'
    stripped = strip_jsonc(text)
    assert stripped.count("\n") == text.count("\n") and len(stripped) == len(text)
    cfg = load_config(write(tmp_path, text))
    assert cfg["name"] == "a // b /* c */" and cfg["data"]["train"] == "t.jsonl"


def test_unknown_and_unsupported_keys_are_errors_naming_them(tmp_path):
    p = write(tmp_path, '{"data": {"train": "t.jsonl", "format": "beir"}, "loss": {"alhpa": 1}, "backend": "wasm"}')  # beir is read now
    with pytest.raises(ConfigError) as e:
        load_config(p)
    msg = str(e.value)
    assert f'{p}: $.loss.alhpa: unknown property "alhpa"' in msg
    assert "$.data.format" not in msg
    assert "$.backend" in msg and "not supported by the PyTorch trainer" in msg


def test_bad_values_and_syntax_are_located(tmp_path):
    with pytest.raises(ConfigError, match=r"\$\.training\.batchSize: must be >= 2"):
        load_config(write(tmp_path, '{"data": {"train": "t"}, "training": {"batchSize": 1}}'))
    with pytest.raises(ConfigError, match=r"x\.rlens\.json:3:\d+: "):
        load_config(write(tmp_path, '{\n "data": {"train": "t"},\n "name": oops\n}'))
    with pytest.raises(ConfigError, match=r'missing required property "data"'):
        load_config(write(tmp_path, "{}"))
    with pytest.raises(ConfigError, match=r'"__proto__" is not allowed'):
        load_config(SHOP, ["__proto__.x=1"])


def test_the_trainer_section_and_set_trainer_are_read_like_any_other_key(tmp_path):
    p = write(tmp_path, '{"data": {"train": "t.jsonl"}, "trainer": {"kind": "torchrun", "nprocPerNode": 2, "python": ".venv/bin/python"}}')
    cfg = load_config(p, ["trainer.nprocPerNode=3"])
    assert cfg["trainer"] == {"kind": "torchrun", "nprocPerNode": 3, "python": ".venv/bin/python", "module": "retrieval_lens.train"}
    with pytest.raises(ConfigError) as e:
        load_config(p, ["trainer.nprocs=2"])
    assert f'{p}: $.trainer.nprocs: unknown property "nprocs"' in str(e.value)


def test_the_run_config_names_the_trainer_that_ran_it(tmp_path):
    # The TypeScript reader (retrieval-lens eval) refuses torchrun-only keys with kind "node"; a config without a
    # trainer section gets the schema's defaults (kind "node", nprocPerNode 1) from this reader.
    from retrieval_lens.train import resolved_config

    p = write(tmp_path, '{"data": {"train": "t.jsonl"}}')
    c = resolved_config(load_config(p), p, str(tmp_path / "runs"), 2)
    assert c["trainer"]["kind"] == "torchrun" and c["trainer"]["nprocPerNode"] == 2
    assert c["data"]["train"] == str(tmp_path / "t.jsonl")


def test_standalone_becomes_the_local_rendezvous_with_no_tcp_store():
    from retrieval_lens.launch import LOCAL_BACKEND, standalone_args

    a = standalone_args(["--standalone", "--nproc_per_node", "2", "-m", "retrieval_lens.train", "c.rlens.json", "--standalone"])
    b = standalone_args(["--standalone", "--nproc_per_node", "2", "/abs/python/rlens_bootstrap.py", "retrieval_lens.train", "c.rlens.json", "--standalone"])
    assert "--standalone" not in a[: a.index("-m")], "replaced before the module"
    assert a[a.index("-m") :] == ["-m", "retrieval_lens.train", "c.rlens.json", "--standalone"], "the trainer's own arguments are untouched"
    assert b[-4:] == ["/abs/python/rlens_bootstrap.py", "retrieval_lens.train", "c.rlens.json", "--standalone"], "a script path ends the launcher's arguments too"
    for x in (a, b):
        assert x[x.index("--rdzv_backend") + 1] == LOCAL_BACKEND
    assert a[a.index("--rdzv_id") + 1] != b[b.index("--rdzv_id") + 1], "two jobs never share a run id"
    assert standalone_args(["--nproc_per_node", "1", "-m", "m"]) == ["--nproc_per_node", "1", "-m", "m"]


def test_evaluation_every_is_an_integer_or_auto_by_default(tmp_path):
    p = write(tmp_path, '{"data": {"train": "t.jsonl"}}')
    assert load_config(p)["evaluation"]["every"] == "auto"
    assert load_config(p, ["evaluation.every=5"])["evaluation"]["every"] == 5
    for bad in ("evaluation.every=-1", 'evaluation.every="often"'):
        with pytest.raises(ConfigError) as e:
            load_config(p, [bad])
        assert '$.evaluation.every: must be one of: integer >= 0, "auto"' in str(e.value)
