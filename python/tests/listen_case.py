"""Run under `python -m retrieval_lens.launch --standalone --nproc_per_node 2`: once the ranks have joined
their process group (retrieval_lens.train.Dist, as the trainer does), rank 0 writes to argv[1] the TCP
sockets in LISTEN state that any process of the job's process group holds (the launcher's agent and
every rank), as "address:port" strings read from /proc/net/tcp and /proc/net/tcp6; then both ranks
leave together. test_local_store.py checks that none listens on a non-loopback address."""

import json
import os
import sys

from retrieval_lens.train import Dist

LISTEN = "0A"


def socket_inodes_of_group(pgid: int) -> set:
    inodes = set()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if os.getpgid(int(pid)) != pgid:
                continue
            for fd in os.listdir(f"/proc/{pid}/fd"):
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
                if target.startswith("socket:["):
                    inodes.add(target[len("socket:[") : -1])
        except (OSError, ProcessLookupError):
            continue
    return inodes


def decode(hex_addr: str) -> str:
    """/proc/net/tcp{,6} "0100007F:1F90" → "127.0.0.1:8080" (IPv6 as its 32 hex digits, words in host order)."""
    addr, port = hex_addr.split(":")
    if len(addr) == 8:
        ip = ".".join(str(int(addr[i : i + 2], 16)) for i in (6, 4, 2, 0))
    else:
        words = [addr[i : i + 8] for i in range(0, 32, 8)]
        ip = "[" + "".join("".join(w[i : i + 2] for i in (6, 4, 2, 0)) for w in words) + "]"
    return f"{ip}:{int(port, 16)}"


def listening(inodes: set) -> list:
    out = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in f.readlines()[1:]:
                cols = line.split()
                if cols[3] == LISTEN and cols[9] in inodes:
                    out.append(decode(cols[1]))
    return out


def main():
    dd = Dist()
    if dd.rank == 0:
        with open(sys.argv[1], "w") as f:
            json.dump({"world": dd.world, "listening": listening(socket_inodes_of_group(os.getpgid(0)))}, f)
    dd.sum([0.0])  # leave together: the agent and both ranks are up while rank 0 looks
    dd.close()


if __name__ == "__main__":
    main()
