"""Benchmark: the customer-value pipeline on DuckDB and on Spark.

Generates N transactions (default ten million) of N/10 customers as Parquet,
then runs the whole pipeline (validation, customer table, BG/NBD and
Gamma-Gamma fits, scoring, per-customer output) on both engines and prints the
wall time, the cost per transaction and per customer, and the peak memory of the
Python process (Spark's JVM has its own, set by --driver-memory).

    .venv/bin/python bench/bench_spark.py                      # 10 000 000 transactions
    .venv/bin/python bench/bench_spark.py --transactions 1000000 --master local[2]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq


def generate(path: Path, transactions: int, seed: int = 1) -> int:
    """Write ``transactions`` rows of about transactions/10 customers; return customers."""
    rng = np.random.default_rng(seed)
    customers = max(transactions // 10, 1)
    # heavy-tailed purchase rates: a few customers buy often, most rarely
    weight = rng.gamma(0.6, 1.0, customers)
    cust = rng.choice(customers, size=transactions, p=weight / weight.sum())
    start = np.datetime64("2022-01-01")
    first = rng.integers(0, 600, customers)
    day = first[cust] + rng.integers(0, 130, transactions)
    amount = np.round(rng.gamma(4.0, 12.0, transactions), 2)
    ids = pa.array(np.char.add("c", cust.astype("U8")))
    table = pa.table({"customer_id": ids, "date": pa.array(start + day.astype("timedelta64[D]")),
                      "amount": pa.array(amount)})
    pq.write_table(table, path, row_group_size=1_000_000)
    return int(np.unique(cust).size)


#: Pareto/NBD is left out: its fit (numerical gradient, hypergeometric terms) runs on the
#: driver alike for both engines and would dominate the engine figures measured here.
MODELS = ("bgnbd", "gamma_gamma")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=10_000_000)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--driver-memory", default="2g")
    parser.add_argument("--engines", default="duckdb,spark")
    args = parser.parse_args()

    from satisfaction.value.pipeline import value_analysis
    from satisfaction.value.transactions import load_transactions

    work = Path(tempfile.mkdtemp(prefix="bench_spark_"))
    try:
        data = work / "transactions.parquet"
        t0 = time.perf_counter()
        customers = generate(data, args.transactions)
        print(f"generated {args.transactions:,} transactions of {customers:,} customers "
              f"in {time.perf_counter() - t0:.1f} s")
        period_end = "2023-06-30"
        results = {}
        if "duckdb" in args.engines:
            t0 = time.perf_counter()
            tx = load_transactions(data, today="2025-01-01")
            t1 = time.perf_counter()
            res = value_analysis(tx, period_end=period_end, models=MODELS)
            res.customers.to_parquet(work / "duckdb_scored.parquet")
            t2 = time.perf_counter()
            results["duckdb"] = (t1 - t0, t2 - t1, t2 - t0, res.bgnbd.to_dict())
            print(f"duckdb: load+validate {t1 - t0:.1f} s, table+fit+score+write {t2 - t1:.1f} s, "
                  f"total {t2 - t0:.1f} s = {1e6 * (t2 - t0) / args.transactions:.2f} µs per "
                  f"transaction; peak RSS {peak_rss_mb():,.0f} MB")
        if "spark" in args.engines:
            from satisfaction.value import spark as sv

            session = sv.spark_session(args.master, config={
                "spark.driver.memory": args.driver_memory,
                "spark.sql.shuffle.partitions": "16"})
            t0 = time.perf_counter()
            stx = sv.spark_transactions(session, str(data), today="2025-01-01")
            t1 = time.perf_counter()
            res = sv.spark_value_analysis(session, stx, period_end=period_end, models=MODELS)
            res.write_parquet(work / "spark_scored")
            t2 = time.perf_counter()
            results["spark"] = (t1 - t0, t2 - t1, t2 - t0, res.bgnbd.to_dict())
            print(f"spark ({args.master}): validate {t1 - t0:.1f} s, table+fit+score+write "
                  f"{t2 - t1:.1f} s, total {t2 - t0:.1f} s = "
                  f"{1e6 * (t2 - t0) / args.transactions:.2f} µs per transaction; "
                  f"driver JVM -Xmx {args.driver_memory}, Python peak RSS "
                  f"{peak_rss_mb():,.0f} MB; "
                  f"{res.bgnbd.n_unique:,} distinct (x, t_x, T) for {res.bgnbd.n_customers:,} "
                  "customers reached the driver")
            session.stop()
        if len(results) == 2:
            d, s = results["duckdb"][3], results["spark"][3]
            worst = max(abs(s[k] - d[k]) / abs(d[k]) for k in ("r", "alpha", "a", "b"))
            print(f"BG/NBD parameters, largest relative difference between engines: {worst:.1e}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
