"""`python -m retrieval_lens.launch` = `python -m torch.distributed.run` (torchrun), same arguments.

Debian's torch 1.13 under Python 3.11 cannot start torchrun at all: its `Std.from_str` looks values up
by iterating the IntFlag `Std`, and since Python 3.11 that iteration skips the zero member `NONE` and
the alias `ALL`, so the default `--redirects 0` / `--tee 0` become None and the launcher fails with
"'NoneType' object has no attribute 'get'". This module replaces the lookup by `Std(int(v))` (when
needed) and then runs torch's own launcher unchanged.

`--standalone` (one machine) listens on no network interface: torch 1.13's standalone mode listens on
port 29400 (two jobs on one machine collided), and every TCP store of torch 1.13 (the rendezvous's and
the process group's) binds all interfaces whatever `--master_addr` says, so anyone who could reach the
machine could join or disturb a run. `--standalone` is replaced by the rendezvous backend
`rlens-local`: the agent's store and the ranks' process-group store are FileStores in a private (0700)
temporary folder (environment RLENS_LOCAL_STORE, removed at the end), and gloo talks over the loopback
interface (GLOO_SOCKET_IFNAME=lo unless set). Several machines need torchrun's own `--rdzv_*`
arguments; their store then listens on all interfaces (README, "Security").
"""

import os
import re
import shutil
import sys
import tempfile
import uuid

from retrieval_lens.startup import quiet_interrupts
#: Environment variable naming the private folder of a single-node job's FileStores (set by this launcher).
LOCAL_STORE_ENV = "RLENS_LOCAL_STORE"
LOCAL_BACKEND = "rlens-local"


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


def _launcher_end(argv: list) -> int:
    """Where torchrun's own arguments end: at `-m`, or at the training script (a `*.py` path)."""
    for i, a in enumerate(argv):
        if a == "-m" or a.endswith(".py"):
            return i
    return len(argv)


def standalone_args(argv: list) -> list:
    """`--standalone` (before the script or `-m module`) → the single-node `rlens-local` rendezvous (no TCP store)."""
    end = _launcher_end(argv)
    if "--standalone" not in argv[:end]:
        return argv
    i = argv.index("--standalone")
    rdzv = ["--rdzv_backend", LOCAL_BACKEND, "--rdzv_endpoint", "", "--rdzv_id", str(uuid.uuid4())]
    return argv[:i] + rdzv + argv[i + 1 :]


def _register_local_backend() -> None:
    """The `rlens-local` rendezvous: one node, its store a FileStore in the folder RLENS_LOCAL_STORE names."""
    from torch.distributed import FileStore, PrefixStore  # pyright: ignore[reportPrivateImportUsage]  (torch 1.13 exports them at run time)
    from torch.distributed.elastic.rendezvous import RendezvousHandler, rendezvous_handler_registry

    class LocalRendezvous(RendezvousHandler):
        def __init__(self, run_id: str):
            self.run_id = run_id
            self._store = None

        def get_backend(self) -> str:
            return LOCAL_BACKEND

        def next_rendezvous(self):
            if self._store is None:
                self._store = FileStore(os.path.join(os.environ[LOCAL_STORE_ENV], "rendezvous"), 1)
            return PrefixStore(self.run_id, self._store), 0, 1

        def is_closed(self) -> bool:
            return False

        def set_closed(self) -> None:
            pass

        def num_nodes_waiting(self) -> int:
            return 0

        def get_run_id(self) -> str:
            return self.run_id

        def shutdown(self) -> bool:
            return True

    def create(params):
        if params.max_nodes != 1:
            raise ValueError(f"the {LOCAL_BACKEND} rendezvous (--standalone) is for one machine: use --rdzv_backend c10d for several")
        return LocalRendezvous(params.run_id)

    rendezvous_handler_registry.register(LOCAL_BACKEND, create)


def local_process_group_url() -> "str | None":
    """`file://…` of the ranks' process-group store when launched with `--standalone`, else None (env://)."""
    folder = os.environ.get(LOCAL_STORE_ENV)
    return f"file://{os.path.join(folder, 'process-group')}" if folder else None


def main() -> None:
    quiet_interrupts("torchrun")  # until torchrun installs its own handlers: Ctrl-C while importing torch
    _patch_std()
    from torch.distributed.run import main as torchrun_main

    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError

    argv = standalone_args(sys.argv[1:])
    local = LOCAL_BACKEND in argv[: _launcher_end(argv)]
    if local:
        _register_local_backend()
        os.environ[LOCAL_STORE_ENV] = tempfile.mkdtemp(prefix="rlens-store-")  # mode 0700
        if sys.platform.startswith("linux") and os.path.exists("/sys/class/net/lo"):
            os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")
    try:
        torchrun_main(argv)
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
    finally:
        if local:
            shutil.rmtree(os.environ[LOCAL_STORE_ENV], ignore_errors=True)


if __name__ == "__main__":
    main()
