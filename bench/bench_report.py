"""Benchmark of the demo report: simulate → every analysis stage → PDF.

Prints the seconds of each step (the issue's budget: the whole demo, 2,000
respondents, 1,000 bootstrap draws and 100,000 customers, in at most 60 s on
2 cores), the load average and the CPU seconds of the whole run (the machine is
shared: the CPU time, unlike the wall time, does not grow with its load).

    .venv/bin/python bench/bench_report.py [--lang en|zh] [--respondents N]
        [--customers N] [--bootstrap B] [--out DIR]
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lang", default="en", choices=("en", "zh"))
    parser.add_argument("--respondents", type=int, default=2000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--bootstrap", type=int, default=1000)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    from satisfaction.pipeline import run
    from satisfaction.report.context import build_context
    from satisfaction.report.render import render_pdf_bytes, write_report
    from satisfaction.simulate import simulate_demo

    load = os.getloadavg()  # the machine is shared: the figures depend on its load
    print(f"load average at start  {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
          f"({os.cpu_count()} cores)")
    out = args.out or Path(tempfile.mkdtemp(prefix="bench_report_"))
    out.mkdir(parents=True, exist_ok=True)
    total = time.perf_counter()
    t = time.perf_counter()
    demo = simulate_demo(n_respondents=args.respondents, n_customers=args.customers)
    responses, transactions = out / "responses.csv", out / "transactions.csv"
    demo.responses.to_csv(responses, index=False)
    demo.transactions.to_csv(transactions, index=False, date_format="%Y-%m-%d")
    print(f"simulate + write CSV   {time.perf_counter() - t:7.2f} s "
          f"({len(demo.transactions):,} transactions)")
    t = time.perf_counter()
    start = time.perf_counter()

    def step(stage: str) -> None:
        print(f"  ... {stage} starts at {time.perf_counter() - start:7.2f} s", flush=True)

    analysis = run(demo.questionnaire, responses, transactions, bootstrap=args.bootstrap,
                   seed=demo.seed, progress=step)
    print(f"analysis               {time.perf_counter() - t:7.2f} s")
    for stage, seconds in analysis.timings.items():
        print(f"  {stage:<20} {seconds:7.2f} s")
    t = time.perf_counter()
    context = build_context(analysis, args.lang)
    print(f"context + charts       {time.perf_counter() - t:7.2f} s")
    t = time.perf_counter()
    pdf = render_pdf_bytes(context)
    print(f"PDF (WeasyPrint)       {time.perf_counter() - t:7.2f} s ({len(pdf) / 1e6:.1f} MB)")
    t = time.perf_counter()
    write_report(analysis, out / f"demo_{args.lang}.pdf", lang=args.lang,
                 json=out / "results.json")
    print(f"write PDF + JSON       {time.perf_counter() - t:7.2f} s (context and PDF again)")
    elapsed = time.perf_counter() - total
    demo_like = elapsed - (time.perf_counter() - t)
    print(f"total (demo path)      {demo_like:7.2f} s  [budget 60 s]")
    # CPU seconds do not depend on the machine's load as the wall time does (the
    # machine is shared); on 2 free cores the wall time is at least half of them
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime
    print(f"CPU, whole run         {cpu:7.2f} s (this process and its workers, incl. the "
          "second write)")
    load = os.getloadavg()
    print(f"load average at end    {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(f"output: {out}")


if __name__ == "__main__":
    main()
