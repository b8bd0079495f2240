"""Benchmark: PLS bootstrap of the CRAM model (issue 14's goal: 5,000 draws in <= 10 s).

The model is the shipped questionnaire ``cram`` (11 first-order dimensions under 3
second-order purchase stages, satisfaction, loyalty; 41 items) estimated by PLS with
repeated indicators (the stages measured by their dimensions' items: 75 indicator
columns, 16 constructs), on 2,000 simulated respondents without contamination.
Prints the time of one fit and of the bootstrap (wall clock, and the CPU time
of all threads, which tells a busy machine apart) (all weights, loadings, paths,
total and indirect effects, percentile intervals), for ``--runs`` runs and their
median, and a few estimates with their intervals. SmartPLS and seminr take minutes
for this.

Run:  .venv/bin/python bench/bench_pls.py [--draws 5000] [--n 2000] [--runs 3]
      [--hoc repeated|embedded|disjoint]
"""

from __future__ import annotations

import argparse
import statistics
import time

from satisfaction.pls import pls
from satisfaction.pls_hoc import bootstrap_stages
from satisfaction.questionnaire import load_questionnaire
from satisfaction.responses import load_responses
from satisfaction.simulate import simulate_responses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--draws", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--hoc", default="repeated", choices=("repeated", "embedded", "disjoint"))
    args = parser.parse_args()

    q = load_questionnaire("cram")
    raw = simulate_responses(q, n=args.n, seed=args.seed, contaminate=False)
    data = load_responses(q, raw).data
    pls(q, data, higher_order=args.hoc)  # warm-up (imports)
    t0 = time.perf_counter()
    result = pls(q, data, higher_order=args.hoc)
    t_fit = time.perf_counter() - t0
    print(f"CRAM by PLS ({args.hoc}): {len(q.items)} items, {len(result.model.indicators)} "
          f"indicator columns, {len(result.model.constructs)} constructs, n = {result.n}; "
          f"one fit {t_fit:.3f} s, {result.iterations} iterations")
    times = []
    for run in range(args.runs):
        fresh = pls(q, data, higher_order=args.hoc)
        t0, c0 = time.perf_counter(), time.process_time()
        bootstrap_stages(fresh, args.draws, seed=args.seed + run)
        times.append(time.perf_counter() - t0)
        info = fresh.bootstrap_info
        print(f"run {run + 1}: {args.draws} draws in {times[-1]:6.2f} s "
              f"(CPU time of all threads {time.process_time() - c0:6.2f} s; "
              f"succeeded {info['succeeded']}, failed {info['failed']})")
        result = fresh
    print(f"median of {args.runs}: {statistics.median(times):.2f} s (goal <= 10 s)")
    params = result.parameters()
    for lhs, op, rhs in (("Sat", "~", "InSale"), ("Loy", "~", "Sat"),
                         ("InSale", "=~", "Staff")):
        r = params[(params["lhs"] == lhs) & (params["op"] == op) & (params["rhs"] == rhs)].iloc[0]
        print(f"{lhs} {op} {rhs}: {r['est']:.3f} [{r['ci.lower']:.3f}, {r['ci.upper']:.3f}] "
              f"se {r['se']:.3f}")


if __name__ == "__main__":
    main()
