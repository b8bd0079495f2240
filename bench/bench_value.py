"""Benchmark: the customer-value pipeline on 10 million transactions of 1 million customers.

    .venv/bin/python bench/bench_value.py [--rows 10000000] [--customers 1000000]
                                          [--no-lifetimes] [--data DIR]

Generates the transactions with numpy into a Parquet file (kept in --data,
default a folder under the system temp dir; never committed), then runs, each in
its own process so that peak memory is measured per step:

1. the whole pipeline: load + validate (DuckDB), customer table, RFM, ABC,
   lifecycle, BG/NBD, Gamma-Gamma, CLV per customer, per-customer CSV out;
2. for comparison, DuckDB's plain group-by of the same file;
3. for comparison, lifetimes 0.11's ``summary_data_from_transaction_data`` (the
   summary step only) and its BG/NBD fit.

Goal for step 1: at most 10 s and 2 GB peak RSS on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

#: BG/NBD parameters (time in weeks) the transactions are simulated from; the fit
#: should recover them.
TRUE_BGNBD = {"r": 1.0, "alpha": 2.4, "a": 2.0, "b": 18.0}


def generate(path: Path, rows: int, customers: int, seed: int = 1) -> tuple[int, float]:
    """Simulate purchases of ``customers`` customers from the BG/NBD model over two
    years and write them to Parquet, sorted by date; return the number of rows.

    Each customer joins on a uniform day of the first 75 % of the window, buys at
    rate λ ~ Gamma(r, α) per week and drops out with probability p ~ Beta(a, b)
    after each repeat purchase (:data:`TRUE_BGNBD`): of the N ~ Poisson(λT) purchase
    times of a never-dropping customer in (0, T] (sorted uniforms), the first
    min(N, J), J ~ Geometric(p), happen.
    The amount of each purchase is log-normal around a customer-level mean. The
    scale α is adjusted (same random numbers) so that about ``rows`` transactions
    result; returns the number of rows and that α.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    days = 730
    p = TRUE_BGNBD
    alpha = p["alpha"]
    for _ in range(8):
        rng = np.random.default_rng(seed)
        first = rng.integers(0, int(0.75 * days), size=customers)
        weeks = (days - first) / 7.0
        lam = rng.gamma(p["r"], 1.0 / alpha, size=customers)
        drop = rng.beta(p["a"], p["b"], size=customers)
        alive_repeats = rng.geometric(drop)  # dropout follows the J-th repeat purchase
        big_n = rng.poisson(lam * weeks)             # purchases in (0, T] if never dropping
        n = np.minimum(big_n, alive_repeats)
        total = customers + int(n.sum())
        if abs(total / rows - 1) < 0.002:
            break
        alpha *= (total / rows) ** 1.5
    # The first n of N sorted uniforms on (0, T] are T·S_k/S_{N+1}, S_k the partial sums
    # of N+1 standard exponentials; S_{N+1} = S_n + Gamma(N+1−n).
    owner = np.repeat(np.arange(customers), n)
    cum = np.cumsum(rng.exponential(size=len(owner)))
    ends = np.cumsum(n)
    before = np.concatenate([[0.0], cum])[ends - n]         # cumulative sum before each group
    partial = cum - np.repeat(before, n)
    s_n = np.where(n > 0, np.concatenate([[0.0], cum])[ends] - before, 0.0)
    whole = s_n + rng.gamma(big_n + 1 - n)
    times = weeks[owner] * partial / whole[owner]
    who = np.concatenate([np.arange(customers), owner])
    day = np.concatenate([first, first[owner] + np.floor(times * 7.0).astype(np.int64)])
    day = np.minimum(day, days - 1)
    spend = rng.lognormal(3.5, 0.4, size=customers)
    amount = np.round(spend[who] * rng.lognormal(0.0, 0.5, size=len(who)), 2)
    by_date = np.argsort(day, kind="stable")
    dates = (np.datetime64("2023-01-01") + day[by_date].astype("timedelta64[D]"))
    table = pa.table({"customer_id": who[by_date].astype(np.int64) + 100_000,
                      "date": pa.array(dates.astype("datetime64[D]"), pa.date32()),
                      "amount": amount[by_date]})
    pq.write_table(table, path, row_group_size=1_000_000)
    return len(who), alpha


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def cpu_s() -> float:
    """CPU seconds (user + system) of this process: a figure that other work on a
    shared machine inflates less than wall time."""
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime


def run_pipeline(path: Path, out: Path) -> dict:
    from satisfaction.value.pipeline import value_analysis
    from satisfaction.value.transactions import load_transactions

    c0 = cpu_s()
    t0 = time.perf_counter()
    tx = load_transactions(path, today="2025-01-01")
    t1 = time.perf_counter()
    res = value_analysis(tx, time_unit="week", horizon=52, models=("bgnbd", "gamma_gamma"))
    t2 = time.perf_counter()
    res.write_csv(out)
    t3 = time.perf_counter()
    return {"load_validate_s": t1 - t0, "analysis_s": t2 - t1, "csv_s": t3 - t2,
            "total_s": t3 - t0, "cpu_s": cpu_s() - c0, "peak_rss_mb": peak_mb(),
            "customers": len(res.customers),
            "kept": tx.log.kept, "bgnbd": res.bgnbd.to_dict(),
            "gamma_gamma": res.gamma_gamma.to_dict()}


def run_groupby(path: Path) -> dict:
    import duckdb

    t0 = time.perf_counter()
    n = duckdb.connect().execute(
        f"SELECT count(*) FROM (SELECT customer_id, count(*), sum(amount), min(date), max(date) "
        f"FROM read_parquet('{path}') GROUP BY customer_id)").fetchone()[0]
    return {"groupby_s": time.perf_counter() - t0, "groups": n, "peak_rss_mb": peak_mb()}


def run_lifetimes(path: Path) -> dict:
    import warnings

    import pandas as pd

    warnings.filterwarnings("ignore")
    from lifetimes import BetaGeoFitter
    from lifetimes.utils import summary_data_from_transaction_data

    frame = pd.read_parquet(path)
    frame["date"] = pd.to_datetime(frame["date"])
    t0 = time.perf_counter()
    summary = summary_data_from_transaction_data(frame, "customer_id", "date",
                                                 observation_period_end="2024-12-31", freq="W")
    t1 = time.perf_counter()
    result = {"summary_s": t1 - t0, "peak_rss_mb": peak_mb()}
    print(json.dumps(result), flush=True)  # the fit may not finish within the time limit
    try:
        bgf = BetaGeoFitter().fit(summary["frequency"], summary["recency"], summary["T"])
        result["bgnbd_fit_s"] = time.perf_counter() - t1
        result["bgnbd"] = {k: float(v) for k, v in bgf.params_.items()}
    except Exception as exc:  # lifetimes raises ConvergenceError on such data
        result["bgnbd_fit_s"] = time.perf_counter() - t1
        result["bgnbd_error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:120]}"
    result["peak_rss_mb"] = peak_mb()
    return result


def child(step: str, path: Path, out: Path, timeout: float | None = None) -> dict:
    """Run one step in a fresh process; its last JSON line is the result."""
    cmd = [sys.executable, __file__, "--child", step, "--file", str(path), "--out", str(out)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False,
                              timeout=timeout)
        stdout, failed = proc.stdout, proc.returncode != 0
        error = proc.stderr.strip().splitlines()[-1] if failed and proc.stderr else "failed"
    except subprocess.TimeoutExpired as exc:
        raw = exc.stdout or b""
        stdout = raw.decode() if isinstance(raw, bytes) else raw
        failed, error = True, f"did not finish within {timeout:.0f} s"
    lines = [ln for ln in stdout.strip().splitlines() if ln.startswith("{")]
    result = json.loads(lines[-1]) if lines else {}
    if failed:
        result["error"] = error
    return result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "satisfaction-bench")
    ap.add_argument("--no-lifetimes", action="store_true")
    ap.add_argument("--lifetimes-timeout", type=float, default=600.0)
    ap.add_argument("--child")
    ap.add_argument("--file", type=Path)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    if args.child:
        fn = {"pipeline": lambda: run_pipeline(args.file, args.out),
              "groupby": lambda: run_groupby(args.file),
              "lifetimes": lambda: run_lifetimes(args.file)}[args.child]
        print(json.dumps(fn()), flush=True)
        return
    args.data.mkdir(parents=True, exist_ok=True)
    path = args.data / f"transactions_{args.rows}_{args.customers}.parquet"
    if not path.exists():
        t0 = time.perf_counter()
        made, alpha = generate(path, args.rows, args.customers)
        (args.data / (path.name + ".alpha")).write_text(repr(alpha))
        print(f"generated {made:,} transactions of {args.customers:,} customers "
              f"in {time.perf_counter() - t0:.1f} s -> {path}")
    out = args.data / "customers.csv"
    pipe = child("pipeline", path, out)
    if "error" in pipe:
        print("pipeline failed:", pipe["error"])
        sys.exit(1)
    print(f"value pipeline: {pipe['total_s']:.2f} s (load+validate {pipe['load_validate_s']:.2f}, "
          f"analysis {pipe['analysis_s']:.2f}, CSV {pipe['csv_s']:.2f}; "
          f"CPU {pipe['cpu_s']:.1f} s), "
          f"peak RSS {pipe['peak_rss_mb']:.0f} MB, {pipe['customers']:,} customers")
    b = pipe["bgnbd"]
    alpha_file = args.data / (path.name + ".alpha")
    true = dict(TRUE_BGNBD)
    if alpha_file.exists():
        true["alpha"] = float(alpha_file.read_text())
    print("  simulated from BG/NBD " + " ".join(f"{k}={v:.4f}" for k, v in true.items()))
    print(f"  BG/NBD r={b['r']:.4f} alpha={b['alpha']:.4f} a={b['a']:.4f} b={b['b']:.4f} "
          f"({b['n_unique']:,} unique triplets); Gamma-Gamma p={pipe['gamma_gamma']['p']:.3f} "
          f"q={pipe['gamma_gamma']['q']:.3f} v={pipe['gamma_gamma']['v']:.3f}")
    gb = child("groupby", path, out)
    print(f"DuckDB group-by alone: {gb.get('groupby_s', float('nan')):.2f} s")
    if not args.no_lifetimes:
        lt = child("lifetimes", path, out, timeout=args.lifetimes_timeout)
        if "summary_s" not in lt:
            print("lifetimes failed:", lt.get("error"))
        else:
            if "bgnbd" in lt:
                fit = (f"{lt['bgnbd_fit_s']:.2f} s, "
                       + ", ".join(f"{k}={v:.4f}" for k, v in lt["bgnbd"].items()))
            else:
                fit = lt.get("bgnbd_error") or lt.get("error", "failed")
            print(f"lifetimes 0.11: summary_data_from_transaction_data {lt['summary_s']:.2f} s; "
                  f"BG/NBD fit: {fit}")
    goal = pipe["total_s"] <= 10 and pipe["peak_rss_mb"] <= 2048
    load = Path("/proc/loadavg").read_text().split()[0] if Path("/proc/loadavg").exists() else "?"
    print(f"goal (<= 10 s, <= 2 GB): {'met' if goal else 'NOT met'} "
          f"(load average now {load}: other work on the machine inflates wall time)")


if __name__ == "__main__":
    main()
