"""Benchmark of the command line's start-up: ``satisfaction --help`` and a usage error.

Each is run as a fresh process (what a user waits for), ``--runs`` times; prints
every time, the median and the peak memory of the child processes. The goals
(issue 16): ``--help`` in at most 0.5 s and a usage error in at most 1 s (every
option check of ``clv`` is one: they import no pandas, SciPy or DuckDB, see
``satisfaction/value/checks.py``; only ``--date-format`` asks DuckDB).

    .venv/bin/python bench/bench_cli.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

EXECUTABLE = Path(sys.executable).with_name("satisfaction")

#: (what, arguments, expected exit code)
CASES: tuple[tuple[str, list[str], int], ...] = (
    ("--help", ["--help"], 0),
    ("fit --help", ["fit", "--help"], 0),
    ("usage error (fit without arguments)", ["fit"], 2),
    ("usage error (clv --discount 2)", ["clv", "tx.csv", "--discount", "2"], 2),
    ("usage error (clv --engine foo)", ["clv", "tx.csv", "--engine", "foo"], 2),
    ("usage error (clv --models foo)", ["clv", "tx.csv", "--models", "foo"], 2),
    ("usage error (clv --period-end 2024-13-01)", ["clv", "tx.csv", "--period-end",
                                                   "2024-13-01"], 2),
    ("usage error (clv --date-format %Q)", ["clv", "tx.csv", "--date-format", "%Q"], 2),
    ("usage error (clv --margin-col and --cost-col)", ["clv", "tx.csv", "--margin-col", "m",
                                                       "--cost-col", "c"], 2),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    load = os.getloadavg()
    print(f"load average at start  {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
          f"({os.cpu_count()} cores)")
    for what, argv, expected in CASES:
        seconds = []
        for _ in range(args.runs):
            start = time.perf_counter()
            done = subprocess.run([str(EXECUTABLE), *argv], capture_output=True, check=False)
            seconds.append(time.perf_counter() - start)
            if done.returncode != expected:
                raise SystemExit(f"{what}: exit {done.returncode}, expected {expected}\n"
                                 f"{done.stderr.decode(errors='replace')}")
        shown = " ".join(f"{s:.2f}" for s in seconds)
        print(f"{what:46s} median {statistics.median(seconds):5.2f} s   runs: {shown}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak memory of a run   {peak:.0f} MB")


if __name__ == "__main__":
    main()
