"""The cost of `retrieval_lens.Lens.log`'s diagnostics against a paper-shape training step (batch 350, output
dimension 128: the trainer's own step, bench_step.paper_step), measured in one process, interleaved. Prints one
JSON line and the same in a sentence (`npm run bench:lens`):
  {"batch", "dim", "logEvery", "stepMs", "logMs", "quietLogMs", "overheadPct", "targetPct"}
stepMs: median training step; logMs: median `log` of a due step (diagnostics, verdict, event write; an
effective-rank step every effectiveRankEvery); quietLogMs: a step between them; overheadPct =
(logMs + (logEvery − 1)·quietLogMs) / (logEvery · stepMs) · 100, the share of training time at the default interval.

  python -m retrieval_lens.bench_lens [--steps 10] [--batch 350] [--log-every 10]
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time

from .bench_step import paper_step, parse
from .lens import DEFAULT_LOG_EVERY, Lens
from .train import Dist

TARGET_PCT = 5.0


def main() -> None:
    argv = sys.argv[1:]
    log_every = DEFAULT_LOG_EVERY
    if "--log-every" in argv:
        i = argv.index("--log-every")
        log_every = int(argv[i + 1])
        del argv[i : i + 2]
    a = parse(argv, "python -m retrieval_lens.bench_lens")
    dd = Dist()
    step = paper_step(a, dd)
    step_ms, log_ms, quiet_ms = [], [], []
    with tempfile.TemporaryDirectory() as runs, Lens(runs, "bench-lens", log_every=log_every) as lens:
        for k in range(a.warmup + a.steps):
            t0 = time.perf_counter()
            out = step(k)
            t1 = time.perf_counter()
            s = 2 * k + 1  # every iteration logs a due step (odd multiples of log_every) and a quiet one
            lens.log(s * log_every, out, step_ms=(t1 - t0) * 1000)
            t2 = time.perf_counter()
            lens.log(s * log_every + 1, out, step_ms=(t1 - t0) * 1000)
            t3 = time.perf_counter()
            if k >= a.warmup:
                step_ms.append((t1 - t0) * 1000)
                log_ms.append((t2 - t1) * 1000)
                quiet_ms.append((t3 - t2) * 1000)
    sm, lm, qm = statistics.median(step_ms), statistics.median(log_ms), statistics.median(quiet_ms)
    overhead = (lm + (log_every - 1) * qm) / (log_every * sm) * 100
    print(
        json.dumps(
            {
                "batch": a.batch,
                "dim": a.out_dim,
                "logEvery": log_every,
                "stepMs": round(sm, 1),
                "logMs": round(lm, 1),
                "quietLogMs": round(qm, 2),
                "overheadPct": round(overhead, 2),
                "targetPct": TARGET_PCT,
            }
        ),
        flush=True,
    )
    verdict = "within" if overhead <= TARGET_PCT else "OVER"
    print(
        f"paper-shape step (batch {a.batch}, dim {a.out_dim}) {sm:.0f} ms; Lens.log with diagnostics {lm:.0f} ms every {log_every} steps, "
        f"{qm:.2f} ms between: {overhead:.2f}% of training time ({verdict} the {TARGET_PCT:.0f}% target)",
        flush=True,
    )
    dd.close()


if __name__ == "__main__":
    main()
