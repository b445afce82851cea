"""Runs a module of the bundled `retrieval_lens` package, as `python -m MODULE ARGS…` would, but safely:

    <python> /abs/path/python/rlens_bootstrap.py MODULE ARGS…

`python -m` puts the working directory first on `sys.path`, and the trainer's working directory is the
config's folder, a repository's: a `retrieval_lens/` package (or a `torch/`) there would be imported
instead of ours and run its code. A script run by path puts its own folder first instead (this file's,
`python/`, which holds the bundled package), never the working directory; this bootstrap also drops
the entries that name the working directory (`""`, `"."`, relative or equal paths from PYTHONPATH).
The launcher (src/trainer/torchrunLauncher.ts) starts torchrun with it, and torchrun starts every
rank with it (the script path is torchrun's training script), so no process of a run imports from
the config's folder.
"""

import os
import runpy
import sys


def safe_path(path: list, here: str, cwd: str) -> list:
    """`path` with this script's folder first and no entry that resolves to the working directory."""
    keep = [here]
    for p in path:
        if p == "" or not os.path.isabs(p) or os.path.realpath(p) == cwd or os.path.realpath(p) == here:
            continue
        keep.append(p)
    return keep


def main() -> None:
    if len(sys.argv) < 2:
        sys.exit("usage: rlens_bootstrap.py MODULE [ARGS…]")
    here = os.path.dirname(os.path.realpath(__file__))
    sys.path[:] = safe_path(sys.path, here, os.path.realpath(os.getcwd()))
    module = sys.argv[1]
    sys.argv = [sys.argv[0], *sys.argv[2:]]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
