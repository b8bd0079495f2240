"""Input of tests/reference/text_weights_survey.R: the bilingual comments of
tests/data/comments_bilingual.csv (answered rows), a weight per respondent and the
number of terms of each answer (satisfaction.text.answer_terms, tested by hand in
tests/test_text.py; R needs it for the log-odds' totals n^d, n^s, n).

Weights, a fixed pattern between 0.4 and 2.0: w_k = 0.4 + 1.6 ((37 k) mod 23) / 22 for
the k-th row of the file (k = 1..90).

Run from the repository root: .venv/bin/python tests/reference/text_weights_input.py
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from satisfaction.text import answer_terms

HERE = Path(__file__).parent


def weight_pattern(n: int) -> list[float]:
    """The weights of rows 1..n."""
    return [0.4 + 1.6 * ((37 * k) % 23) / 22 for k in range(1, n + 1)]


def main() -> None:
    frame = pd.read_csv(HERE.parent / "data" / "comments_bilingual.csv",
                        keep_default_na=False, dtype={"comment": str})
    frame["weight"] = weight_pattern(len(frame))
    frame["n_terms"] = [len(answer_terms(t)) if t else 0 for t in frame["comment"]]
    frame[["respondent", "index", "weight", "n_terms", "comment"]].to_csv(
        HERE / "text_weights_input.csv", index=False)


if __name__ == "__main__":
    main()
