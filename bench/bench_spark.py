"""Benchmark: ``satisfaction clv --engine spark`` against the DuckDB engine, as users run it.

    .venv/bin/python bench/bench_spark.py [--runs 3] [--small-runs 5] [--rows 10000000]
                                          [--customers 1000000] [--master local[2]]
                                          [--driver-memory 2g] [--data DIR] [--skip-large]

Every figure is the median wall time of fresh ``satisfaction clv FILE --out CSV``
processes with the default models (BG/NBD, Pareto/NBD, Gamma-Gamma), so Spark's
time includes starting its JVM, as a user's does:

1. **fixed cost**: the CDNOW sample (tests/data/cdnow_sample.csv, 6,919 rows) on
   Spark ``--master`` and on DuckDB. Goal: Spark ≤ 30 s on ``local[2]``.
2. **10 million transactions of 1 million customers** (bench/bench_value.py's
   simulated Parquet file, made once into --data): Spark and DuckDB. Goal: Spark
   within 4× DuckDB.

Each pair of runs must write the same per-customer CSV (compared byte for byte).
The driver memory is passed as ``PYSPARK_SUBMIT_ARGS`` (the command has no option
for it). CPU time is printed beside the wall time: for DuckDB it is the steadier
figure on a shared machine; for Spark it counts the Python process only (PySpark
does not wait for its JVM, so the JVM's CPU time never reaches the parent).

Spark's JVM maps a class-data archive when the user's cache holds one
(:mod:`satisfaction.value.jvm_archive`); the benchmark says before the runs whether
it does. Without one, the first Spark run records it, and its time includes writing
it (about 15 s, once). ``--no-class-archive`` runs Spark without it.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SMALL = HERE.parent / "tests" / "data" / "cdnow_sample.csv"


def load_average() -> str:
    path = Path("/proc/loadavg")
    return path.read_text().split()[0] if path.exists() else "?"


def archive_state() -> str:
    """Whether Spark's JVM will find a class-data archive in the user's cache."""
    from pyspark.find_spark_home import _find_spark_home

    from satisfaction.value import jvm_archive

    key = jvm_archive.archive_key(Path(_find_spark_home()))
    found = sorted(jvm_archive.cache_dir().glob(f"spark-{key}-*.jsa")) if key else []
    if found:
        return f"JVM class archive present ({found[0]}): every Spark run maps it"
    return ("no JVM class archive yet: the first Spark run records it, and its time "
            "includes writing it")


def run(path: Path, out: Path, engine: str, master: str, driver_memory: str,
        extra: list[str], archive: bool = True) -> dict:
    """One fresh ``satisfaction clv`` process: wall and CPU seconds (Python only)."""
    cli = Path(sys.executable).with_name("satisfaction")
    cmd = [str(cli), "clv", str(path), "--out", str(out), *extra]
    env = dict(os.environ)
    if engine == "spark":
        cmd += ["--engine", "spark", "--spark-master", master]
        env["PYSPARK_SUBMIT_ARGS"] = f"--driver-memory {driver_memory} pyspark-shell"
        if not archive:
            env["SATISFACTION_JVM_ARCHIVE"] = "off"
    load = load_average()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stderr[-2000:]}")
    return {"wall": wall, "load": load,
            "cpu": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)}


def compare(label: str, path: Path, runs: int, work: Path, master: str, driver_memory: str,
            extra: list[str], archive: bool = True) -> dict[str, float]:
    """Alternate DuckDB and Spark runs; print each and the medians; check the CSVs."""
    walls: dict[str, list[float]] = {"duckdb": [], "spark": []}
    for i in range(runs):
        for engine in ("duckdb", "spark"):
            r = run(path, work / f"{engine}.csv", engine, master, driver_memory, extra,
                    archive)
            walls[engine].append(r["wall"])
            print(f"  {label} run {i + 1} {engine:6s}: {r['wall']:7.2f} s wall, CPU "
                  f"{r['cpu']:6.1f} s (load average before it {r['load']})", flush=True)
        same = (work / "duckdb.csv").read_bytes() == (work / "spark.csv").read_bytes()
        if not same:
            raise SystemExit(f"{label}: the engines wrote different per-customer CSVs")
    medians = {e: float(np.median(w)) for e, w in walls.items()}
    print(f"{label}: median of {runs} runs: DuckDB {medians['duckdb']:.2f} s, Spark "
          f"({master}) {medians['spark']:.2f} s, ratio {medians['spark'] / medians['duckdb']:.2f}"
          "; the per-customer CSVs are identical", flush=True)
    return medians


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3, help="runs at 10 million rows")
    ap.add_argument("--small-runs", type=int, default=5, help="runs on the small file")
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--driver-memory", default="2g")
    ap.add_argument("--data", type=Path,
                    default=Path(tempfile.gettempdir()) / "satisfaction-bench")
    ap.add_argument("--skip-large", action="store_true")
    ap.add_argument("--no-class-archive", action="store_true",
                    help="run Spark without the JVM class-data archive")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench_spark_"))
    archive = not args.no_class_archive
    print(archive_state() if archive else "Spark runs without the JVM class archive",
          flush=True)

    goals = []
    if args.small_runs > 0:
        small = compare("small file (CDNOW sample, 6,919 rows)", SMALL, args.small_runs,
                        work, args.master, args.driver_memory,
                        ["--period-end", "1997-09-30", "--keep-duplicates", "--today",
                         "2025-01-01"], archive)
        goals.append(f"Spark fixed cost {small['spark']:.1f} s <= 30 s: "
                     + ("met" if small["spark"] <= 30 else "NOT met"))
    if not args.skip_large:
        sys.path.insert(0, str(HERE))
        from bench_value import generate  # the simulated file of bench_value.py

        args.data.mkdir(parents=True, exist_ok=True)
        path = args.data / f"transactions_{args.rows}_{args.customers}.parquet"
        if not path.exists():
            t0 = time.perf_counter()
            made, alpha = generate(path, args.rows, args.customers)
            (args.data / (path.name + ".alpha")).write_text(repr(alpha))
            print(f"generated {made:,} transactions of {args.customers:,} customers in "
                  f"{time.perf_counter() - t0:.1f} s -> {path}", flush=True)
        large = compare(f"{args.rows:,} transactions", path, args.runs, work, args.master,
                        args.driver_memory, [], archive)
        ratio = large["spark"] / large["duckdb"]
        goals.append(f"Spark at {args.rows:,} rows {ratio:.2f}x DuckDB <= 4x: "
                     + ("met" if ratio <= 4 else "NOT met"))
    print("goals: " + "; ".join(goals) + f" (load average now {load_average()})")


if __name__ == "__main__":
    main()
