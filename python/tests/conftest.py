import json
import os
import signal
import subprocess
import sys

PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO = os.path.dirname(PYTHON_DIR)
sys.path.insert(0, PYTHON_DIR)


def launch_env():
    """Environment of a launched trainer: the package and the tests on PYTHONPATH, one BLAS thread each."""
    return {**os.environ, "PYTHONPATH": PYTHON_DIR + os.pathsep + os.path.join(PYTHON_DIR, "tests"), "OMP_NUM_THREADS": "1"}


def launch(args, **kw) -> subprocess.Popen:
    """`python -m retrieval_lens.launch --standalone <args>` (torchrun on a free port) in its own process group."""
    return subprocess.Popen(
        [sys.executable, "-m", "retrieval_lens.launch", "--standalone", *args],
        env=launch_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        **kw,
    )


def finish(p: subprocess.Popen, timeout: float = 600):
    """Waits for a launched job; kills its whole process group if it does not end in `timeout` s."""
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, err = p.communicate()
        raise AssertionError(f"the launched job did not end in {timeout} s:\n{err[-3000:]}") from None
    return p.returncode, out, err


def model_config(tmp_path, model: dict) -> str:
    """A config file (in tmp_path) with this `model` section and a train file name, for the config checks."""
    p = tmp_path / "exp.rlens.json"
    p.write_text(json.dumps({"data": {"train": "x.jsonl"}, "model": model}))
    return str(p)
