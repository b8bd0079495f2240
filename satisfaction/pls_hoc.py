"""Second-order (higher-order) constructs in PLS path models.

A higher-order construct (HOC) is measured by first-order constructs, its
*dimensions* or lower-order constructs (LOCs), instead of by items. In lavaan
syntax ``Stage =~ Dim1 + Dim2`` is a reflective-reflective HOC (type I: the HOC
is reflected in its dimensions) and ``Stage <~ Dim1 + Dim2`` a
reflective-formative one (type II: the dimensions form the HOC); a
questionnaire says the same with ``parent:`` on the dimensions and
``mode: formative`` on the HOC. PLS cannot estimate a block of latent
variables directly; three approaches are in use (Becker, Klein & Wetzels 2012;
Sarstedt, Hair, Cheah, Becker & Ringle 2019):

Repeated indicators (``approach="repeated"``, Lohmöller 1989; Wold 1982)
    The HOC is measured by all items of its dimensions (each item used twice),
    in Mode A for ``=~`` and Mode B for ``<~`` (Becker et al. 2012 recommend
    Mode B with the path weighting scheme for the formative type). The relations
    between HOC and dimensions become inner paths: HOC → dimension for ``=~``,
    dimension → HOC for ``<~``. One PLS run estimates everything; the path
    coefficients HOC → dimension are reported as the HOC's loadings
    (``Stage =~ Dim``), the coefficients dimension → HOC as its weights
    (``Stage <~ Dim``). The bootstrap resamples the whole model.

Embedded two-stage (``approach="embedded"``; Ringle, Sarstedt & Straub 2012)
    Stage 1 is the repeated-indicators model; its dimension scores are kept.
    Stage 2 drops the dimensions as constructs: the HOC is measured by the
    dimensions' stage-1 scores (one indicator per dimension, same mode), the
    other constructs keep their items and the structural paths are those of the
    model.

Disjoint two-stage (``approach="disjoint"``; Agarwal & Karahanna 2000;
Sarstedt et al. 2019)
    Stage 1 leaves the HOC out: every path into or out of the HOC is drawn into
    or out of each of its dimensions instead (``Sat ~ PreSale`` becomes
    ``Sat ~ Info + Brand + WoM``). Stage 2 as in the embedded approach. This is
    R seminr's ``two_stage_HOC``; its test fixture on the mobi data is reproduced
    to 1e-6 (``tests/reference/pls_seminr_hoc.json``).

In both two-stage approaches the result is the stage-2 estimate (its model's
indicators include the dimension scores) with the stage-1 estimate attached as
``result.stage1``; :meth:`~satisfaction.pls.PLSResult.parameters` reports the
dimensions' item loadings from stage 1. The bootstrap of stage 2 takes the
stage-1 scores as data (as an analyst does who runs stage 2 on saved scores);
:func:`bootstrap_stages` bootstraps both stages (stage 1 for the items).

Only second-order constructs are supported (a HOC's dimension cannot itself be
a HOC), and a dimension belongs to one HOC.

References
----------
Wold (1982), Soft modeling, in Jöreskog & Wold (eds.), *Systems under indirect
observation* II, 1-54; Lohmöller (1989), *Latent variable path modeling with
partial least squares*, 130-133; Agarwal & Karahanna (2000), Time flies when
you're having fun, MIS Quarterly 24(4), 665-694; Becker, Klein & Wetzels (2012),
Hierarchical latent variable models in PLS-SEM: guidelines for using
reflective-formative type models, Long Range Planning 45(5-6), 359-394; Ringle,
Sarstedt & Straub (2012), A critical look at the use of PLS-SEM in MIS
Quarterly, MIS Quarterly 36(1), iii-xiv; Sarstedt, Hair, Cheah, Becker &
Ringle (2019), How to specify, estimate, and validate higher-order constructs
in PLS-SEM, Australasian Marketing Journal 27(3), 197-211.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from satisfaction.errors import UsageError
from satisfaction.pls import PLSModel, PLSResult, bootstrap_pls, pls

#: Ways to estimate second-order constructs (see the module docstring).
APPROACHES: tuple[str, ...] = ("repeated", "embedded", "disjoint")


def questionnaire_syntax(q: Any) -> str:
    """The PLS model of a questionnaire in lavaan syntax.

    First-order constructs: ``F =~ items`` (``F <~ items`` with ``mode:
    formative``); higher-order ones: ``H =~ children`` (``<~`` when formative);
    then the questionnaire's paths.
    """
    def op(c: Any) -> str:
        return "<~" if getattr(c, "mode", "reflective") == "formative" else "=~"

    lines = [f"{c.id} {op(c)} " + " + ".join(i.id for i in c.items) for c in q.first_order]
    lines += [f"{c.id} {op(c)} " + " + ".join(k.id for k in q.children(c.id))
              for c in q.higher_order if q.children(c.id)]
    lines += [r.line for r in q.regressions]
    return "\n".join(lines) + "\n"


def _dimensions(m: PLSModel) -> list[str]:
    return [d for dims in m.higher_order.values() for d in dims]


def repeated_indicators_model(m: PLSModel) -> PLSModel:
    """The repeated-indicators model: each HOC measured by its dimensions' items
    (same mode as the HOC), linked to them by inner paths (HOC → dimension for a
    reflective HOC, dimension → HOC for a formative one)."""
    blocks = dict(m.blocks)
    links: list[tuple[str, str]] = []
    for h, dims in m.higher_order.items():
        blocks[h] = tuple(x for d in dims for x in m.blocks[d])
        links += [(h, d) if m.modes[h] == "A" else (d, h) for d in dims]
    return PLSModel(m.constructs, blocks, dict(m.modes), tuple(dict.fromkeys([*links, *m.paths])))


def disjoint_first_stage_model(m: PLSModel) -> PLSModel:
    """Stage 1 of the disjoint two-stage approach: no HOC; each of its paths is
    drawn to or from every one of its dimensions."""
    def expand(c: str) -> tuple[str, ...]:
        return m.higher_order.get(c, (c,))

    paths = [(a2, b2) for a, b in m.paths for a2 in expand(a) for b2 in expand(b)]
    kept = tuple(c for c in m.constructs if c not in m.higher_order)
    return PLSModel(kept, {c: m.blocks[c] for c in kept}, {c: m.modes[c] for c in kept},
                    tuple(dict.fromkeys(paths)))


def second_stage_model(m: PLSModel) -> PLSModel:
    """Stage 2: each HOC measured by its dimensions' scores (columns named as the
    dimensions), the dimensions no longer constructs, the structural paths kept."""
    dims = set(_dimensions(m))
    kept = tuple(c for c in m.constructs if c not in dims)
    paths = tuple(p for p in m.paths if p[0] not in dims and p[1] not in dims)
    return PLSModel(kept, {c: m.blocks[c] for c in kept}, {c: m.modes[c] for c in kept}, paths)


def fit_higher_order(m: PLSModel, data: pd.DataFrame, *, approach: str = "repeated",
                     scheme: str = "path", tol: float = 1e-7, max_iter: int = 300,
                     consistent: bool = False, missing: str = "listwise",
                     weights: Any = None) -> PLSResult:
    """Estimate a PLS model with second-order constructs (module docstring).

    Parameters
    ----------
    m : PLSModel
        A model whose ``higher_order`` is not empty (from
        :func:`satisfaction.pls.parse_pls_model`).
    data : DataFrame
        The items.
    approach : {"repeated", "embedded", "disjoint"}
    scheme, tol, max_iter, consistent, missing, weights
        As :func:`satisfaction.pls.pls`, used in every stage (respondent weights: a
        Series indexed like ``data``; stage 2 takes the weights of its rows). Consistent PLS is
        offered for the two-stage approaches with reflective HOCs only: with
        repeated indicators the HOC's block repeats items of other blocks and
        ``ρA`` has no meaning; a reflective HOC's dimension scores follow a
        one-factor model in the HOC (each score = loading × HOC + the dimension's
        own part + its items' error, independent across dimensions), so stage 2's
        ``ρA`` of that block corrects consistently; a formative HOC is a composite
        of common factors and needs the correction of van Riel, Henseler, Kemény &
        Sasovova (2017, Industrial Management & Data Systems 117(3), 459-477),
        not implemented here: refused.

    Returns
    -------
    PLSResult
        With ``higher_order`` set; for the two-stage approaches the stage-2
        estimate with ``stage1`` attached. Tested against PLS on the same models
        written out by hand, in the deliberately naive second implementation
        ``tests/reference/pls_reference.py`` (stage 2 on the naive stage-1 scores).
    """
    if approach not in APPROACHES:
        raise UsageError(f"higher-order constructs are estimated by one of "
                         f"{', '.join(APPROACHES)}", column="--hoc", value=approach)
    info = {"approach": approach, "constructs": dict(m.higher_order),
            "modes": {h: m.modes[h] for h in m.higher_order}}
    options = {"scheme": scheme, "tol": tol, "max_iter": max_iter, "consistent": consistent,
               "missing": missing}
    if weights is not None:  # a column name stays one; numbers follow the rows of data
        options["weights"] = (weights if isinstance(weights, str) else
                              pd.Series(pd.Series(weights).to_numpy(dtype=float),
                                        index=data.index))
    if approach == "repeated":
        if consistent:
            raise UsageError("consistent PLS (PLSc) is not defined for the repeated-indicators "
                             "approach to higher-order constructs; use a two-stage approach "
                             "(--hoc embedded or --hoc disjoint)", column="--hoc", value=approach)
        result = pls(repeated_indicators_model(m), data, **options)
        result.higher_order = info
        return result
    formative = [h for h in m.higher_order if m.modes[h] == "B"]
    if consistent and formative:
        raise UsageError(f"consistent PLS of the formative higher-order construct "
                         f"{formative[0]!r} (a composite of common factors) needs the "
                         "correction of van Riel et al. (2017), which is not implemented; use "
                         "--estimator pls, or a reflective higher-order construct",
                         column="--estimator", value="plsc")
    dims = _dimensions(m)
    own = [p for p in m.paths if p[0] in dims or p[1] in dims]
    if own:
        raise UsageError(f"the dimension {own[0][0] if own[0][0] in dims else own[0][1]!r} "
                         "has a structural path of its own; the two-stage approaches replace "
                         "dimensions by their higher-order construct (use the repeated "
                         "indicators approach)", column="--hoc", value=approach)
    first = (repeated_indicators_model(m) if approach == "embedded"
             else disjoint_first_stage_model(m))
    stage1 = pls(first, data, **options)
    stage2_data = data.loc[stage1.scores.index].copy()
    for d in dims:
        stage2_data[d] = stage1.scores[d]
    if weights is not None and not isinstance(weights, str):  # stage 2: stage 1's rows
        options["weights"] = options["weights"].loc[stage2_data.index]
    result = pls(second_stage_model(m), stage2_data, **options)
    seen = {w.code for w in stage1.warnings}
    result.warnings = stage1.warnings + [w for w in result.warnings if w.code not in seen]
    result.converged = result.converged and stage1.converged
    result.higher_order = info
    result.stage1 = stage1
    return result


def hoc_parameters(result: PLSResult, rows: pd.DataFrame) -> pd.DataFrame:
    """The lavaan-style rows of a HOC model as specified.

    Repeated indicators: the inner path HOC → dimension is the row ``HOC =~ Dim``,
    the path dimension → HOC of a formative HOC the row ``HOC <~ Dim``; the
    HOC's repeated items are not rows. Two-stage: the stage-2 rows (the HOC's
    loadings/weights on the dimension scores are ``HOC =~ Dim`` / ``HOC <~ Dim``
    already) followed by the dimensions' item rows from stage 1.
    """
    info = result.higher_order or {}
    hoc: dict[str, tuple[str, ...]] = info.get("constructs", {})
    if result.stage1 is not None:
        first = result.stage1.parameters()
        dims = {d for ds in hoc.values() for d in ds}
        items = first[first["op"].isin(["=~", "<~"]) & first["lhs"].isin(dims)]
        return pd.concat([rows, items], ignore_index=True)
    modes = info.get("modes", {})
    out = []
    for r in rows.to_dict("records"):
        lhs, rhs = r["lhs"], r["rhs"]
        if r["op"] == "~":
            if rhs in hoc and lhs in hoc[rhs] and modes[rhs] == "A":
                r.update(lhs=rhs, op="=~", rhs=lhs)
            elif lhs in hoc and rhs in hoc[lhs] and modes[lhs] == "B":
                r["op"] = "<~"
        elif lhs in hoc:
            continue
        out.append(r)
    return pd.DataFrame(out, columns=rows.columns)


def bootstrap_stages(result: PLSResult, draws: int, seed: int | None = None,
                     **options: Any) -> PLSResult:
    """Bootstrap a PLS fit (:func:`satisfaction.pls.bootstrap_pls`, ``options``
    passed on); for a two-stage HOC estimate both stages (same seed): stage 1 for
    the dimensions' items, stage 2 for the rest (module docstring). Returns
    ``result``."""
    if result.stage1 is not None:
        bootstrap_pls(result.stage1, draws, seed=seed, **options)
    return bootstrap_pls(result, draws, seed=seed, **options)


def hoc_reliability(result: PLSResult) -> pd.DataFrame:
    """:func:`satisfaction.pls.reliability` of the constructs as specified.

    Two-stage: the dimensions from stage 1, the HOCs (measured by the dimension
    scores) and the other constructs from stage 2, the HOC assessment Sarstedt et
    al. (2019) recommend. Repeated indicators: the first-order blocks as
    estimated, and each HOC from its relations with its dimensions (below)."""
    from satisfaction.pls import reliability

    own = reliability(result)
    if result.stage1 is None:
        return _repeated_hoc_reliability(result, own)
    first = reliability(result.stage1)
    dims = [d for ds in result.higher_order["constructs"].values() for d in ds]
    return pd.concat([first.loc[[c for c in first.index if c in dims]], own])


def _repeated_hoc_reliability(result: PLSResult, own: pd.DataFrame) -> pd.DataFrame:
    """HOC rows of the repeated-indicators approach, from the dimensions as its
    indicators (Sarstedt et al. 2019: the HOC-dimension relations are its loadings).

    With ``λ_d`` the path coefficients HOC → dimension (= the correlations of the
    HOC and dimension scores; for a formative HOC the correlations), ``R`` the
    correlations of the ``k`` dimension scores: ``α = k/(k − 1)(1 − k/1'R1)``,
    ``ρC = (Σλ)²/((Σλ)² + Σ(1 − λ²))``, ``AVE = Σλ²/k``. ``ρA`` needs weights of
    the dimensions, which this approach does not estimate: NaN (the two-stage
    approaches give it)."""
    out = own.copy()
    corr = result.construct_correlations
    for h, dims in (result.higher_order or {}).get("constructs", {}).items():
        dims = list(dims)
        lam = corr.loc[dims, h].to_numpy()
        k = len(dims)
        alpha = k / (k - 1) * (1 - k / corr.loc[dims, dims].to_numpy().sum())
        rhoc = lam.sum() ** 2 / (lam.sum() ** 2 + (1 - lam**2).sum())
        out.loc[h] = {"alpha": alpha, "rhoA": float("nan"), "rhoC": rhoc,
                      "AVE": float((lam**2).mean())}
    return out


def hoc_htmt(result: PLSResult, **options: Any) -> pd.DataFrame:
    """:func:`satisfaction.pls.htmt` without the pairs of a HOC and its own dimensions
    (they share items or scores by construction; Sarstedt et al. 2019 exclude them).
    Two-stage: the pairs of first-order constructs from stage 1, the pairs with a
    HOC from stage 2."""
    from satisfaction.pls import htmt

    hoc = result.higher_order["constructs"] if result.higher_order else {}
    own = htmt(result, **options)
    if result.stage1 is not None:
        first = htmt(result.stage1, **options)
        first = first[~(first["construct1"].isin(list(hoc)) | first["construct2"].isin(list(hoc)))]
        own = pd.concat([first, own[own["construct1"].isin(list(hoc))
                                    | own["construct2"].isin(list(hoc))]], ignore_index=True)
    keep = [not (a in hoc and b in hoc[a]) and not (b in hoc and a in hoc[b])
            for a, b in zip(own["construct1"], own["construct2"], strict=True)]
    return own[keep].reset_index(drop=True)


def two_stage_ipma_inputs(result: PLSResult, data: pd.DataFrame, scale: Any
                          ) -> tuple[pd.DataFrame, dict[str, tuple[float, float]], list[Any]]:
    """Data and item ranges for the IPMA of a two-stage estimate.

    The stage-2 indicators of a HOC are the dimensions' scores; on the 0-100
    metric they are the dimensions' IPMA scores of stage 1 (rescaled items,
    normalized unstandardized weights), with range (0, 100). Stage 2's weights
    are the same on these scores as on the standardized ones (PLS standardizes).
    Returns the stage-2 data, the ranges of its indicators and the stage-1 IPMA's
    diagnostics (answers outside their scale).
    """
    from satisfaction.pls import _scale_of, ipma

    first = result.stage1
    if first is None or not result.higher_order:
        raise ValueError("not a two-stage estimate")
    found = ipma(first, data, first.model.constructs[0], scale)
    scores = found.scores
    dims = [d for ds in result.higher_order["constructs"].values() for d in ds]
    out = data.loc[result.scores.index].copy()
    for d in dims:
        out[d] = scores.loc[result.scores.index, d]
    items = [x for x in result.model.indicators if x not in dims]
    lo, hi = _scale_of(scale, items)
    ranges = {x: (float(a), float(b)) for x, a, b in zip(items, lo, hi, strict=True)}
    ranges.update({d: (0.0, 100.0) for d in dims})
    return out, ranges, list(found.warnings)


__all__ = ["APPROACHES", "bootstrap_stages", "disjoint_first_stage_model", "fit_higher_order",
           "hoc_htmt", "hoc_parameters", "hoc_reliability", "questionnaire_syntax",
           "repeated_indicators_model", "second_stage_model", "two_stage_ipma_inputs"]
