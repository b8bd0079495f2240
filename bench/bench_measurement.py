"""Benchmark: measurement quality on the CRAM questionnaire (13 first-order constructs,
41 items) with simulated respondents.

Prints the time of item statistics, reliability and validity (including the
first-order CFA), HTMT alone, and the EFA (parallel analysis with 100
simulated data sets, minres and ML extraction, oblimin rotation).

Run:  .venv/bin/python bench/bench_measurement.py [--n 2000] [--factors 13]
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

from satisfaction.efa import efa
from satisfaction.questionnaire import load_questionnaire
from satisfaction.reliability import htmt, item_statistics, reliability
from satisfaction.responses import load_responses
from satisfaction.simulate import simulate_responses

ROOT = Path(__file__).resolve().parent.parent


def _timed(label: str, func, *args, **kwargs):
    start = time.perf_counter()
    out = func(*args, **kwargs)
    print(f"{label:<40} {time.perf_counter() - start:8.2f} s")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--factors", type=int, default=13)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    warnings.simplefilter("ignore")

    q = load_questionnaire(ROOT / "satisfaction" / "questionnaires" / "cram.yaml")
    data = load_responses(q, simulate_responses(q, args.n, seed=args.seed)).data
    items = data[[i.id for i in q.items]]
    blocks = {c.id: [i.id for i in c.items] for c in q.first_order}
    print(f"CRAM: {len(data)} respondents, {items.shape[1]} items, "
          f"{len(blocks)} first-order constructs")
    _timed("item statistics", item_statistics, data, q)
    _timed("HTMT (all pairs)", htmt, data, blocks)
    _timed("reliability (CFA, alpha, omega, HTMT)", reliability, q, data)
    _timed(f"EFA minres, {args.factors} factors", efa, items, n_factors=args.factors)
    _timed(f"EFA ml, {args.factors} factors", efa, items, n_factors=args.factors, method="ml")


if __name__ == "__main__":
    main()
