"""`python -m retrieval_lens.launch` = `python -m torch.distributed.run` (torchrun), same arguments.

Debian's torch 1.13 under Python 3.11 cannot start torchrun at all: its `Std.from_str` looks values up
by iterating the IntFlag `Std`, and since Python 3.11 that iteration skips the zero member `NONE` and
the alias `ALL`, so the default `--redirects 0` / `--tee 0` become None and the launcher fails with
"'NoneType' object has no attribute 'get'". This module replaces the lookup by `Std(int(v))` (when
needed) and then runs torch's own launcher unchanged.

`--standalone` gets a free port: torch 1.13's standalone mode always listens on localhost:29400, so two
jobs on one machine (two users, or two test runs at once) collided in the rendezvous ("The connection to
the C10d store has failed"). It is replaced by the same single-node c10d rendezvous on a port the kernel
picks.
"""

import re
import socket
import sys
import uuid


def _patch_std() -> None:
    from torch.distributed.elastic.multiprocessing import api

    std = api.Std
    if std.from_str("0") is not None and std.from_str("3") is not None:
        return  # this torch/Python pair works as is

    def from_str(cls, vm):
        if re.match(api._VALUE_REGEX, vm):
            return cls(int(vm))
        if re.match(api._MAPPING_REGEX, vm):
            return {int(i): cls(int(v)) for i, v in (m.split(":") for m in vm.split(","))}
        raise ValueError(f"{vm} does not match: <{api._VALUE_REGEX}> or <{api._MAPPING_REGEX}>")

    std.from_str = classmethod(from_str)  # pyright: ignore[reportAttributeAccessIssue]


def free_port() -> int:
    """A TCP port on localhost that nothing listens on now (the kernel's pick)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def standalone_args(argv: list) -> list:
    """`--standalone` (before the script or `-m module`) → a single-node c10d rendezvous on a free port."""
    end = argv.index("-m") if "-m" in argv else len(argv)
    if "--standalone" not in argv[:end]:
        return argv
    i = argv.index("--standalone")
    rdzv = ["--rdzv_backend", "c10d", "--rdzv_endpoint", f"127.0.0.1:{free_port()}", "--rdzv_id", str(uuid.uuid4())]
    return argv[:i] + rdzv + argv[i + 1 :]


def main() -> None:
    _patch_std()
    from torch.distributed.run import main as torchrun_main

    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError

    try:
        torchrun_main(standalone_args(sys.argv[1:]))
    except ChildFailedError as e:
        # A rank failed (its own `error: …` lines are above on stderr): one line per failed rank instead of
        # torch's traceback and table, exit code 1 (torchrun's).
        for rank, f in sorted(e.failures.items()):
            how = f"killed by signal {-f.exitcode}" if f.exitcode < 0 else f"exit code {f.exitcode}"
            print(f"torchrun: {e.name}: rank {rank} (pid {f.pid}) ended with {how}", file=sys.stderr)
        sys.exit(1)
    except SignalException as e:
        # Ctrl-C / SIGTERM: torchrun has passed the signal on to the workers and waited for them (the run
        # folder says how the run ended); exit like a process killed by that signal, without a traceback.
        print(f"torchrun: {e}", file=sys.stderr)
        sys.exit(128 + int(e.sigval))


if __name__ == "__main__":
    main()
