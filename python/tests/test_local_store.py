"""A single-machine job (`retrieval_lens.launch --standalone`, as the extension and the CLI start it) listens on
no network interface: torch 1.13's TCP stores bind every interface whatever --master_addr says, so the
launcher's `rlens-local` rendezvous keeps the stores in files of a private folder (README, "Security")."""

import json
import os
import socket

from conftest import PYTHON_DIR, finish, launch
from listen_case import listening, socket_inodes_of_group


def is_loopback(addr: str) -> bool:
    host = addr.rsplit(":", 1)[0]
    return host.startswith("127.") or host in ("[00000000000000000000000000000001]", "[0000000000000000FFFF00007F000001]") or (
        host.startswith("[0000000000000000FFFF0000") and host[25:27] == "7F"
    )


def test_the_socket_scan_sees_a_listening_socket_of_this_process_group():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("0.0.0.0", 0))
        s.listen(1)
        port = s.getsockname()[1]
        found = listening(socket_inodes_of_group(os.getpgid(0)))
    assert f"0.0.0.0:{port}" in found and not is_loopback(f"0.0.0.0:{port}")


def test_a_standalone_job_on_two_ranks_listens_on_loopback_only(tmp_path):
    out = tmp_path / "listening.json"
    code, _, err = finish(launch(["--nproc_per_node", "2", os.path.join(PYTHON_DIR, "tests", "listen_case.py"), str(out)]), 300)
    assert code == 0, err[-3000:]
    seen = json.loads(out.read_text())
    assert seen["world"] == 2
    exposed = [a for a in seen["listening"] if not is_loopback(a)]
    assert exposed == [], f"listening on all or external interfaces: {exposed}"
