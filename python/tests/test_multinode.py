"""Multi-node, tested on one machine: two torchrun launchers — `--nnodes 2 --node_rank 0/1 --nproc_per_node 1`, a
c10d rendezvous on 127.0.0.1, gloo over the loopback interface — form one job of two ranks. The run folder is
written once (global rank 0); SIGKILL of either node's launcher and worker leaves the run `crashed` (as
`retrieval-lens runs` reads it) with every logged step readable. (NCCL on GPUs cannot be tested here.)"""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid

import pytest

from conftest import finish, launch_env
from test_torchrun_run import CONFIG, SMALL, cli, events, read_meta, wait_for_steps


def alive(pid: int) -> bool:
    """Whether a process runs (a zombie does not)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def node(node_rank: int, port: int, job: str, out, steps: int) -> subprocess.Popen:
    args = ["--nnodes", "2", "--node_rank", str(node_rank), "--nproc_per_node", "1", "--rdzv_backend", "c10d", "--rdzv_endpoint", f"127.0.0.1:{port}"]
    # read_timeout: how long an agent waits on the rendezvous store (hosted by the first node) before giving up.
    args += ["--rdzv_conf", "read_timeout=20", "--rdzv_id", job, "-m", "retrieval_lens.train", CONFIG, "--out", str(out), "--steps", str(steps), *SMALL, "--set", "evaluation.every=0"]
    env = {**launch_env(), "GLOO_SOCKET_IFNAME": "lo"}
    return subprocess.Popen([sys.executable, "-m", "retrieval_lens.launch", *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)


def two_nodes(tmp_path, steps: int):
    port, job = free_port(), uuid.uuid4().hex[:12]
    return [node(r, port, job, tmp_path, steps) for r in (0, 1)]


def test_two_launchers_form_one_job_and_the_run_is_written_once(tmp_path) -> None:
    nodes = two_nodes(tmp_path, 4)
    results = [finish(p, 900) for p in nodes]
    assert [code for code, _, _ in results] == [0, 0], [err[-2000:] for _, _, err in results]
    assert len(os.listdir(tmp_path)) == 1  # one run folder, by global rank 0
    run_lines = [out for _, out, _ in results if out.startswith("run: ")]
    assert len(run_lines) == 1
    m = re.match(r"run: (.+)", run_lines[0])
    assert m
    run_dir = m.group(1)
    meta = read_meta(run_dir)
    assert meta["status"] == "completed" and meta["step"] == 4 and meta["versions"]["worldSize"] == "2"
    assert [e["step"] for e in events(run_dir) if e["type"] == "step"] == [1, 2, 3, 4]


@pytest.mark.parametrize("victim", ["writer", "other"])
def test_sigkill_of_a_node_leaves_the_run_crashed_with_its_steps(tmp_path, victim) -> None:
    nodes = two_nodes(tmp_path, 100000)
    try:
        run_dir = wait_for_steps(nodes[0], str(tmp_path), 3)
        writer_pgid = os.getpgid(read_meta(run_dir)["pid"])  # global rank 0 writes the run; its node's process group
        writer = next(p for p in nodes if p.pid == writer_pgid)
        killed = writer if victim == "writer" else next(p for p in nodes if p is not writer)
        os.killpg(killed.pid, signal.SIGKILL)  # the node's launcher and its worker
        # The other node's worker loses its peer and ends (rank 0: leaving the run crashed); its torchrun agent may
        # then wait on the rendezvous store of the dead node (torch's timeouts): the run does not depend on it.
        writer_pid, deadline = read_meta(run_dir)["pid"], time.monotonic() + 240
        while alive(writer_pid) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not alive(writer_pid)
    finally:
        for p in nodes:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
    with open(os.path.join(run_dir, "events.jsonl"), encoding="utf-8") as f:
        raw = f.read()
    parsed = [json.loads(line) for line in raw.splitlines()[: raw.count("\n")]]
    steps = [e["step"] for e in parsed if e["type"] == "step"]
    assert len(steps) >= 3 and steps == list(range(1, len(steps) + 1))
    assert not any(e["type"] == "end" for e in parsed)
    listed = cli("runs", "--dir", str(tmp_path))
    assert listed.returncode == 0, listed.stderr
    assert re.search(r"\bcrashed\b", listed.stdout), listed.stdout
