"""Ctrl-C (SIGINT) while a process is still starting (importing torch, joining the
rendezvous) ends it quietly with one line instead of a KeyboardInterrupt traceback, exit code 128 +
the signal. Installed first thing by retrieval_lens.launch and retrieval_lens.train; the trainer
replaces it with its graceful stop once the run folder exists (train.py), torchrun with its own."""

import os
import signal
import sys


def quiet_interrupts(who: str) -> None:
    """Until replaced: SIGINT prints `<who>: stopped during start-up (<signal>); no run was started` and exit."""

    def stop(signum, _frame):
        print(f"{who}: stopped during start-up ({signal.Signals(signum).name}); no run was started", file=sys.stderr, flush=True)
        # os._exit, not sys.exit: a SystemExit raised inside torch's C extension init becomes a RuntimeError with a traceback.
        # Nothing is open yet that needs closing.
        os._exit(128 + signum)

    signal.signal(signal.SIGINT, stop)
