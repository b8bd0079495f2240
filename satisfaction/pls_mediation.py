"""Specific indirect effects of a PLS path model (mediation), as SmartPLS reports them.

In a recursive inner model with standardized path coefficients ``β``, every
directed chain ``X → M₁ → … → M_k → Y`` (``k ≥ 1`` mediators) carries the
specific indirect effect

    ``β_{X M₁} · β_{M₁ M₂} · … · β_{M_k Y}``,

and the indirect effect of ``X`` on ``Y`` is the sum of its specific indirect
effects (Bollen 1987, *Total, direct, and indirect effects in structural
equation models*, Sociological Methodology 17; Hair, Hult, Ringle & Sarstedt
2022, *A Primer on PLS-SEM*, ch. 7). Their bootstrap draws are the same
products taken in each bootstrap draw (and, for BCa, in each jackknife refit)
of :func:`satisfaction.pls.bootstrap_pls`, so their intervals come from the
very draws of the paths.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pandas as pd

from satisfaction.pls import PLSModel, PLSResult


def indirect_chains(model: PLSModel) -> list[tuple[str, ...]]:
    """Every directed chain of two or more paths in the inner model, as the
    constructs it passes (``(X, M1, …, Y)``), in construct order of ``X`` then
    of the following constructs."""
    paths = set(model.paths)
    successors = {c: [b for b in model.constructs if (c, b) in paths] for c in model.constructs}
    chains: list[tuple[str, ...]] = []

    def extend(chain: tuple[str, ...]) -> None:
        for nxt in successors[chain[-1]]:
            longer = (*chain, nxt)
            if len(longer) >= 3:
                chains.append(longer)
            extend(longer)

    for c in model.constructs:
        extend((c,))
    return chains


def specific_indirect(result: PLSResult) -> pd.DataFrame:
    """Specific indirect effects of every chain (module docstring).

    Returns
    -------
    DataFrame
        ``from``, ``to``, ``via`` (the mediators, ``" → "``-joined), ``path``
        (the whole chain), ``est`` (product of the path coefficients); after
        :func:`~satisfaction.pls.bootstrap_pls` also ``boot.mean``, ``se``
        (divisor ``B − 1``), ``perc.lower``/``perc.upper``, with ``ci="bca"``
        ``bca.lower``/``bca.upper``, and ``ci.lower``/``ci.upper`` (the interval
        the bootstrap was asked for), from the products of the path draws.
    """
    chains = indirect_chains(result.model)
    coef = {(a, b): v for a, b, v in zip(result.paths["from"], result.paths["to"],
                                          result.paths["est"], strict=True)}
    frame = pd.DataFrame({
        "from": [c[0] for c in chains], "to": [c[-1] for c in chains],
        "via": [" → ".join(c[1:-1]) for c in chains],
        "path": [" → ".join(c) for c in chains],
        "est": [float(np.prod([coef[(a, b)] for a, b in pairwise(c)])) for c in chains],
    }, columns=["from", "to", "via", "path", "est"])
    if result.bootstrap is None or result.bootstrap_draws is None or not chains:
        return frame
    from satisfaction.bca import bca_interval, percentile_interval

    column = {(f, t): k for k, (kind, f, t) in enumerate(zip(
        result.bootstrap["kind"], result.bootstrap["from"], result.bootstrap["to"],
        strict=True)) if kind == "path"}

    def products(values: np.ndarray) -> np.ndarray:
        return np.column_stack([np.prod([values[:, column[(a, b)]] for a, b in pairwise(c)],
                                        axis=0) for c in chains])

    draws = products(result.bootstrap_draws)
    level = result.bootstrap_info.get("level", 0.95)
    if len(draws) < 2:
        return frame
    frame["boot.mean"] = draws.mean(axis=0)
    frame["se"] = draws.std(axis=0, ddof=1)
    frame["perc.lower"], frame["perc.upper"] = percentile_interval(draws, level)
    frame["ci.lower"], frame["ci.upper"] = frame["perc.lower"], frame["perc.upper"]
    if result.bootstrap_jackknife is not None:
        lower, upper, _, _ = bca_interval(draws, frame["est"].to_numpy(),
                                          products(result.bootstrap_jackknife), level)
        frame["bca.lower"], frame["bca.upper"] = lower, upper
        frame["ci.lower"], frame["ci.upper"] = lower, upper
    return frame
