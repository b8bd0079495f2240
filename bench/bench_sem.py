"""Benchmark: the full CRAM model (questionnaires/cram.yaml: 11 first-order factors
under 3 stage factors, satisfaction, loyalty; 41 items) on 2,000 simulated respondents.

Prints the time of one ML fit and of a 1000-draw bootstrap of the indirect and
total effects (percentile intervals), and the figures lavaan needs on this
2-core machine for the same work (about 0.3 s and 52 s, measured by the lead).

Run:  .venv/bin/python bench/bench_sem.py [--draws 1000] [--jobs 2]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from satisfaction.model import fit
from satisfaction.questionnaire import load_questionnaire
from satisfaction.responses import load_responses
from satisfaction.simulate import simulate_responses

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=None)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    q = load_questionnaire(ROOT / "satisfaction" / "questionnaires" / "cram.yaml")
    raw = simulate_responses(q, n=args.n, seed=args.seed, contaminate=False)
    data = load_responses(q, raw).data
    print(f"CRAM: {len(q.items)} items, {len(q.first_order)} first-order and "
          f"{len(q.higher_order)} higher-order factors; {len(data)} respondents")

    fit(q, data)  # warm-up (imports, first allocation)
    t0 = time.perf_counter()
    res = fit(q, data)
    t_fit = time.perf_counter() - t0
    fm = res.fit_measures
    print(f"one fit:            {t_fit:7.3f} s   (lavaan ~0.3 s)  converged={res.converged} "
          f"chisq={fm['chisq']:.2f} df={fm['df']:.0f} cfi={fm['cfi']:.3f} "
          f"rmsea={fm['rmsea']:.3f}")

    t0 = time.perf_counter()
    boot = fit(q, data, bootstrap=args.draws, seed=args.seed, n_jobs=args.jobs)
    t_boot = time.perf_counter() - t0
    info = boot.bootstrap
    print(f"{args.draws}-draw bootstrap: {t_boot:7.3f} s   (lavaan ~52 s; goal <= 17 s)  "
          f"succeeded={info['succeeded']} failed={info['failed']}")
    row = boot.effects[(boot.effects["from"] == "PreSale") & (boot.effects["to"] == "Loy")]
    if len(row):
        r = row.iloc[0]
        print(f"PreSale -> Loy indirect {r['indirect']:.3f} "
              f"[{r['indirect.ci.lower']:.3f}, {r['indirect.ci.upper']:.3f}]")


if __name__ == "__main__":
    main()
