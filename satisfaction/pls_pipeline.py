"""PLS path modelling inside the analysis: which estimator, and what PLS gives the report.

The pipeline (:mod:`satisfaction.pipeline`) fits the structural model by
covariance-based ML (CB-SEM) unless one of these holds, in this order:

1. a construct of the questionnaire is ``mode: formative``: only PLS estimates
   a formative block (as a composite, Mode B), so PLS is used;
2. the questionnaire says ``estimator: pls``: PLS is used;
3. the CB-SEM solution fails a validity gate (``SEMResult.status == "invalid"``:
   non-convergence, a negative variance, a non-positive-definite latent
   covariance matrix, a standardized estimate beyond ±1, ...): PLS is fitted as
   well and the structural results, the index and the importance-performance
   map come from it. This is where marketing researchers switch to PLS (Hair,
   Hult, Ringle & Sarstedt 2022, *A Primer on PLS-SEM*, ch. 1): PLS estimates
   composites and has no inadmissible solutions of that kind.

:func:`choose_estimator` makes the choice, :func:`fit_pls_stage` runs PLS with
its bootstrap (:func:`satisfaction.pls.bootstrap_pls`), reliability and HTMT
(:func:`satisfaction.pls.reliability`, :func:`satisfaction.pls.htmt`) and the
importance-performance map of the satisfaction construct with bootstrap
intervals (:func:`satisfaction.pls.bootstrap_ipma`). :func:`pls_indices` and
:func:`pls_ipa` hand these to the drivers stage in the form the report and the
strategy rules read (:class:`satisfaction.drivers.IndexResult`,
:class:`satisfaction.drivers.IPAResult`).

The satisfaction index under PLS is the ACSI index (Fornell et al. 1996): the
0-100 score ``Σ_k w̃_k (x_k − min_k)/(max_k − min_k) · 100`` with ``w̃`` the PLS
outer weights unstandardized on the 0-100 metric and normalized to sum to 1 per
construct (the formula of :func:`satisfaction.pls.ipma`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from satisfaction.diagnostics import Diagnostic, status
from satisfaction.io import records
from satisfaction.questionnaire import Questionnaire

#: Why an estimator was used (``analysis.options["estimator"]["reason"]``).
REASONS: tuple[str, ...] = ("default", "questionnaire", "formative", "fallback")


@dataclass(frozen=True)
class EstimatorChoice:
    """The estimator of the structural model and why.

    ``estimator`` is ``sem`` or ``pls``; ``reason`` one of :data:`REASONS`;
    ``gates`` the codes of the CB-SEM diagnostics that invalidated it (fallback only).
    """

    estimator: str
    reason: str
    gates: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"used": self.estimator, "reason": self.reason, "gates": list(self.gates)}


def choose_estimator(q: Questionnaire) -> EstimatorChoice:
    """The estimator before any fit: PLS for a formative construct or ``estimator: pls``,
    otherwise CB-SEM (the questionnaire's ``estimator: sem`` or the default)."""
    if any(c.mode == "formative" for c in q.constructs):
        return EstimatorChoice("pls", "formative")
    if q.estimator == "pls":
        return EstimatorChoice("pls", "questionnaire")
    return EstimatorChoice("sem", "questionnaire" if q.estimator == "sem" else "default")


def fallback(sem: Any) -> EstimatorChoice | None:
    """PLS instead of an inadmissible CB-SEM solution (``status == "invalid"``), naming
    the gates it failed; ``None`` when the CB-SEM solution stands."""
    if sem is None or getattr(sem, "status", "ok") != "invalid":
        return None
    codes = tuple(dict.fromkeys(d.code for d in sem.warnings if d.severity == "invalidates"))
    return EstimatorChoice("pls", "fallback", codes)


def choice_diagnostic(choice: EstimatorChoice) -> Diagnostic:
    """What the reader is told: a caution for the fallback (the CB-SEM gates are listed
    beside it), an info for the questionnaire's choice or a formative construct."""
    if choice.reason == "fallback":
        return Diagnostic("estimator_pls_fallback", "caution", {"n": len(choice.gates)})
    return Diagnostic(f"estimator_pls_{choice.reason}", "info")


def item_ranges(q: Questionnaire) -> dict[str, tuple[float, float]]:
    """Each analysed item's (min, max) from its scale: the 0-100 metric of the index."""
    return {i.id: (float(q.item_scale(i).min), float(q.item_scale(i).max))
            for i in q.analysed_items}


@dataclass
class PLSAnalysis:
    """PLS results of the analysis.

    Attributes
    ----------
    result : PLSResult
        The estimate, with ``result.bootstrap`` (percentile intervals of paths,
        loadings, weights, total and indirect effects) when draws were asked for.
    ipma : IPMAResult
        Importance-performance map of ``target`` and the 0-100 index of every
        construct (``ipma.index``; with intervals in ``ipma.index_intervals``).
    constructs : DataFrame
        Reflective constructs (index) × ``alpha rhoA cr ave`` (``cr`` = ρC).
    htmt_pairs : DataFrame
        ``construct1 construct2 htmt`` (+ ``se ci.lower ci.upper`` with draws).
    missing : str
        ``listwise`` (complete data) or ``mean`` (mean replacement of empty cells).
    warnings : list of Diagnostic
    """

    result: Any
    ipma: Any
    constructs: pd.DataFrame
    htmt_pairs: pd.DataFrame
    missing: str
    target: str
    warnings: list[Diagnostic] = field(default_factory=list)

    @property
    def status(self) -> str:
        """Gate of the PLS results (``ok``, ``caution``, ``invalid``)."""
        return status(self.warnings)

    @property
    def effects(self) -> pd.DataFrame:
        """Standardized ``from to direct indirect total`` with bootstrap ``*.ci.lower/upper``
        of the indirect and total effects (and of the direct effect = the path)."""
        eff = self.result.effects.copy()
        boot = self.result.bootstrap
        if boot is None:
            return eff
        b = boot.set_index(["kind", "from", "to"])
        for column, kind in (("direct", "path"), ("indirect", "indirect"), ("total", "total")):
            keys = list(zip([kind] * len(eff), eff["from"], eff["to"], strict=True))
            got = b.reindex(keys)
            eff[f"{column}.ci.lower"] = got["ci.lower"].to_numpy()
            eff[f"{column}.ci.upper"] = got["ci.upper"].to_numpy()
        return eff

    def to_dict(self) -> dict[str, Any]:
        """The estimate, the IPMA with the index, reliability and HTMT for the JSON."""
        return {"status": self.status, "missing": self.missing, "target": self.target,
                "weighted": bool(self.result.weighted),
                "estimate": self.result.to_dict(), "ipma": self.ipma.to_dict(),
                "reliability": records(self.constructs.rename_axis("construct")
                                       .reset_index()),
                "htmt": records(self.htmt_pairs),
                "warnings": [d.to_dict() for d in self.warnings]}


def fit_pls_stage(q: Questionnaire, data: pd.DataFrame, target: str, *, bootstrap: int,
                  seed: int, weights: pd.Series | None = None) -> PLSAnalysis:
    """PLS-PM of the questionnaire's model (path weighting, Mode A for reflective and
    Mode B for formative constructs) with its bootstrap, reliability, HTMT and the IPMA
    of ``target``.

    Missing answers: mean replacement (SmartPLS's default; cells counted in a
    ``mean_replaced`` info) when any item is empty, so that no respondent is dropped.
    The bootstrap (``bootstrap`` draws, ``seed``) gives percentile intervals of the
    paths, effects and loadings, of HTMT, and of the IPMA's importance and
    performance; with ``bootstrap = 0`` there are none.

    With respondent ``weights`` (a Series indexed like ``data``, the analysis's
    raking or column weights) the fit is weighted PLS (:func:`satisfaction.pls.pls`:
    weighted standardization and correlations, the bootstrap carrying the weights),
    so the paths, reliability, HTMT, the index and the IPMA describe the weighted
    sample; the fit's ``pls_weighted`` info gives the design effect and effective n.
    Respondents without a weight are left out of PLS and counted there.
    """
    from satisfaction import pls as plsm

    items = [i.id for i in q.analysed_items if i.id in data.columns]
    missing = "mean" if data[items].isna().to_numpy().any() else "listwise"
    result = plsm.pls(q, data, missing=missing, weights=weights)
    scale = item_ranges(q)
    if bootstrap:
        plsm.bootstrap_pls(result, draws=bootstrap, seed=seed)
        ipma = plsm.bootstrap_ipma(result, data, target, scale, draws=bootstrap, seed=seed)
    else:
        ipma = plsm.ipma(result, data, target, scale)
    formative = {c.id for c in q.constructs if c.mode == "formative"}
    rel = plsm.reliability(result).rename(columns={"rhoC": "cr", "AVE": "ave"})
    rel = rel[~rel.index.isin(formative)]
    htmt = plsm.htmt(result, draws=bootstrap, seed=seed)
    htmt = htmt[~htmt["construct1"].isin(formative) & ~htmt["construct2"].isin(formative)]
    warnings = list(result.warnings)
    for d in ipma.warnings:
        if d not in warnings:
            warnings.append(d)
    return PLSAnalysis(result, ipma, rel, htmt.reset_index(drop=True), missing, target,
                       warnings)


def index_weights(q: Questionnaire, fit: PLSAnalysis, data: pd.DataFrame
                  ) -> dict[tuple[str, str], float]:
    """Outer weights of the index, ``{(construct, item): w̃}``.

    For every first-order construct measured by items: the PLS weight ``w_k``
    unstandardized on the 0-100 metric and normalized,
    ``w̃_k = (w_k / sd(x*_k)) / Σ_l (w_l / sd(x*_l))`` (``x*`` the item on 0-100,
    standard deviation over the analysed respondents), so that a respondent's score
    is the ACSI formula and the construct's mean its PLS index (the weights of
    :func:`satisfaction.pls.ipma`). For a weighted fit ``sd`` is the weighted
    standard deviation, so the weighted mean of the scores is the weighted PLS index.
    """
    from satisfaction.pls import _analysed_items, _weighted_sd

    result = fit.result
    scale = item_ranges(q)
    w = result.weights.drop_duplicates(["construct", "indicator"]).set_index(
        ["construct", "indicator"])["est"]
    out: dict[tuple[str, str], float] = {}
    for c in q.first_order:
        names = [i.id for i in c.items]
        if not names or any((c.id, x) not in w.index for x in names):
            continue
        x = _analysed_items(result, data, names)
        lo = np.array([scale[k][0] for k in names])
        hi = np.array([scale[k][1] for k in names])
        sd = _weighted_sd((x.to_numpy(dtype=float) - lo) / (hi - lo) * 100, result._w)
        raw = np.array([w[(c.id, k)] for k in names]) / sd
        out.update({(c.id, k): float(v) for k, v in zip(names, raw / raw.sum(), strict=True)})
    return out


def pls_indices(q: Questionnaire, fit: PLSAnalysis, data: pd.DataFrame) -> Any:
    """The indices of :func:`satisfaction.drivers.indices` weighted by the PLS weights of
    :func:`index_weights` (ACSI formula).

    :func:`~satisfaction.drivers.outer_weights` normalizes the weights it is given
    (they already sum to 1) and gives a non-positive one weight 0 (a reverse-coded
    item should weigh positively). A higher-order construct has no item weights
    here and keeps equal weights of its dimensions. The weights table's ``loading``
    column then holds the PLS outer loadings (the item rows of the IPA read them).
    A construct's interval is the percentile bootstrap interval of its PLS index
    (weights re-estimated in every draw, :func:`satisfaction.pls.bootstrap_ipma`)
    when there is one, else the t-interval with the weights held fixed. With
    complete data a construct's ``index`` equals ``ipma.index``; both are tested
    against a second implementation of the ACSI formula from the item means
    (``tests/test_pipeline_pls.py``, bank ECSI data, 1e-9).

    A weighted fit (respondent weights) makes the construct rows weighted: ``index``
    is the weighted mean of the respondents' 0-100 scores (equal to the weighted
    ``ipma.index`` with complete data), ``se`` and the interval design-based
    (:func:`satisfaction.weights.weighted_indices`, R's ``svymean``) unless the
    bootstrap's are there; ``n`` stays the respondents. The purchase-stage and item
    rows are weighted the same way (:func:`satisfaction.weights.weighted_performance`).
    """
    from satisfaction.drivers import indices

    out = indices(q, data, loadings=index_weights(q, fit, data))
    if fit.result.weighted:  # construct, stage and item rows weighted (issue 17)
        from satisfaction.weights import weighted_performance

        w = pd.Series(fit.result._w, index=fit.result.scores.index)
        out = weighted_performance(out, w)
    lam = fit.result.loadings.drop_duplicates(["construct", "indicator"]).set_index(
        ["construct", "indicator"])["est"]
    table = out.weights.copy()
    keys = list(zip(table["construct"], table["indicator"], strict=True))
    pls_rows = np.array([k in lam.index for k in keys]) & (table["note"] == "").to_numpy()
    table.loc[pls_rows, "loading"] = [float(lam[k]) for k, hit in zip(keys, pls_rows,
                                                                        strict=True) if hit]
    table.loc[pls_rows, "note"] = "PLS weight on the 0-100 metric (ACSI)"
    out.weights = table
    boot = fit.ipma.index_intervals
    if boot is not None:
        by = boot.set_index("construct")
        cons = out.constructs.copy()
        lower = pd.to_numeric(cons["construct"].map(by["ci.lower"]), errors="coerce")
        known = lower.notna().to_numpy()
        for col in ("se", "ci.lower", "ci.upper"):
            cons.loc[known, col] = pd.to_numeric(
                cons.loc[known, "construct"].map(by[col]), errors="coerce").to_numpy()
        out.constructs = cons
    return out


def ipma_effects(fit: PLSAnalysis) -> pd.DataFrame:
    """The IPMA's importance as an effects table for :func:`satisfaction.drivers.ipa`:
    ``from to total total.ci.lower total.ci.upper`` with ``total`` the unstandardized
    total effect on the target on the 0-100 metric (points of the target per point of
    the driver) and its percentile bootstrap interval."""
    c = fit.ipma.constructs
    nan = np.full(len(c), np.nan)
    return pd.DataFrame({
        "from": c["construct"].to_numpy(), "to": fit.target,
        "total": c["importance"].to_numpy(dtype=float),
        "total.ci.lower": c.get("importance.ci.lower", pd.Series(nan)).to_numpy(dtype=float),
        "total.ci.upper": c.get("importance.ci.upper", pd.Series(nan)).to_numpy(dtype=float)})


def pls_ipa(q: Questionnaire, fit: PLSAnalysis, indices: Any, *, bootstrap: int,
            seed: int) -> Any:
    """The importance-performance analysis from PLS's IPMA (Ringle & Sarstedt 2016):
    importance = the unstandardized total effect on the 0-100 metric with its
    bootstrap interval (``importance.method = total_effect``), performance = the PLS
    index; quadrants, the paired performance intervals and the purchase stages as in
    :func:`satisfaction.drivers.ipa` (which also adds the Shapley shares beside).
    Item rows keep that function's definition (PLS loading × the construct's
    importance), not the IPMA's indicator importance (rescaled weight × importance,
    in ``fit.ipma.indicators``). The importance is checked against
    ``T · sd(LV*_target)/sd(LV*_driver)`` from the fit in ``tests/test_pipeline_pls.py``.

    A weighted fit (respondent weights) weights the rest of the analysis too: the
    Shapley shares and the paired performance intervals that decide the quadrants
    use the fit's weights (``drivers.ipa(weights=)``; ``tests/test_importance.py``)."""
    from satisfaction.drivers import ipa

    weights = None
    if fit.result.weighted:
        weights = pd.Series(fit.result._w, index=fit.result.scores.index)
    return ipa(q, indices, ipma_effects(fit), None, target=fit.target,
               sem_status=fit.status, bootstrap=bootstrap, seed=seed, weights=weights)


__all__ = ["REASONS", "EstimatorChoice", "PLSAnalysis", "choice_diagnostic",
           "choose_estimator", "fallback", "fit_pls_stage", "index_weights", "ipma_effects",
           "item_ranges", "pls_indices", "pls_ipa"]
