"""Benchmark of the command line's start-up: ``satisfaction --help`` and a usage error.

Each is run as a fresh process (what a user waits for), ``--runs`` times; prints
every wall-clock time, their median, the median CPU time (user + system) of the
process, which depends less on the machine's load than the wall-clock time, the
load average before and after, and the peak memory of the child processes.

Bytecode: an installed package runs from compiled bytecode (pip compiles it at
install; an editable checkout writes it on the first run). ``--bytecode cached``
(the default) measures that: the children write and read their bytecode under a
temporary ``PYTHONPYCACHEPREFIX`` (nothing is written into the source tree), after
one run of each case that is not counted. ``--bytecode none`` sets
``PYTHONDONTWRITEBYTECODE=1`` without a cache: every module of satisfaction is
compiled from source in every run (a checkout where writing bytecode is off).

The goals
(issue 16): ``--help`` in at most 0.5 s and a usage error in at most 1 s (every
option check of ``clv`` is one: they import no pandas, SciPy or DuckDB, see
``satisfaction/value/checks.py``; only ``--date-format`` asks DuckDB).

    .venv/bin/python bench/bench_cli.py [--runs 5] [--bytecode cached|none]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
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
    ("input error (fit, responses file missing)", ["fit", "cram", "no-such-file.csv"], 2),
    ("input error (efa, responses file missing)", ["efa", "cram", "no-such-file.csv"], 2),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--bytecode", choices=("cached", "none"), default="cached")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_cli_pyc_") as cache:
        env = dict(os.environ)
        if args.bytecode == "cached":
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = cache
        else:
            env["PYTHONDONTWRITEBYTECODE"] = "1"
            env.pop("PYTHONPYCACHEPREFIX", None)
        _print_load("start")
        print(f"bytecode: {args.bytecode}")
        for what, argv, expected in CASES:
            if args.bytecode == "cached":
                _run(what, argv, expected, env)  # writes the bytecode; not counted
            runs = [_run(what, argv, expected, env) for _ in range(args.runs)]
            wall = [w for w, _ in runs]
            cpu = [c for _, c in runs]
            shown = " ".join(f"{w:.2f}" for w in wall)
            print(f"{what:46s} median {statistics.median(wall):5.2f} s  "
                  f"CPU {statistics.median(cpu):5.2f} s   runs: {shown}")
        _print_load("end")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak memory of a run   {peak:.0f} MB")


def _run(what: str, argv: list[str], expected: int, env: dict[str, str]) -> tuple[float, float]:
    """One fresh process: (wall-clock seconds, CPU seconds user + system)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([str(EXECUTABLE), *argv], capture_output=True, check=False, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != expected:
        raise SystemExit(f"{what}: exit {done.returncode}, expected {expected}\n"
                         f"{done.stderr.decode(errors='replace')}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def _print_load(when: str) -> None:
    load = os.getloadavg()
    print(f"load average at {when:5s}  {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
          f"({os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
