"""The shared parity fixtures (test/fixtures/parity/): inputs.json and the TypeScript side's expected.json."""

import json
import os

from conftest import REPO

FIXTURES = os.path.join(REPO, "test", "fixtures", "parity")


def load(name: str):
    with open(os.path.join(FIXTURES, name), encoding="utf-8") as f:
        return json.load(f)


INPUTS = load("inputs.json")
EXPECTED = load("expected.json")
