"""Write the bootstrap resamples that tests/reference/lavaan_fiml_bootstrap.R refits in lavaan.

    .venv/bin/python tests/reference/lavaan_fiml_bootstrap_indices.py

Each line of ``lavaan_fiml_bootstrap_<case>_indices.csv`` is one draw: the 0-based rows
of the data (groups one after another, in order of first appearance) that
:func:`satisfaction.model.resample_indices` draws with the seed below, i.e. the
resamples ``fit(..., missing="fiml", bootstrap=B, seed=SEED)`` refits.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from satisfaction.model import resample_indices

HERE = Path(__file__).parent
#: case: (group sizes, draws, seed)
CASES = {"single": ([301], 60, 20261201), "groups": ([156, 145], 40, 11)}

if __name__ == "__main__":
    for case, (sizes, draws, seed) in CASES.items():
        idx = resample_indices(sizes, draws, seed)
        np.savetxt(HERE / f"lavaan_fiml_bootstrap_{case}_indices.csv", idx, fmt="%d",
                   delimiter=",")
