"""`python -m retrieval_lens.launch` = `python -m torch.distributed.run` (torchrun), same arguments.

Debian's torch 1.13 under Python 3.11 cannot start torchrun at all: its `Std.from_str` looks values up
by iterating the IntFlag `Std`, and since Python 3.11 that iteration skips the zero member `NONE` and
the alias `ALL`, so the default `--redirects 0` / `--tee 0` become None and the launcher fails with
"'NoneType' object has no attribute 'get'". This module replaces the lookup by `Std(int(v))` (when
needed) and then runs torch's own launcher unchanged.
"""

import re
import sys


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

    std.from_str = classmethod(from_str)


def main() -> None:
    _patch_std()
    from torch.distributed.run import main as torchrun_main

    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError

    try:
        torchrun_main(sys.argv[1:])
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
