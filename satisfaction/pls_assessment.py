"""A PLS path model with its assessment, as ``satisfaction fit --estimator pls`` gives it.

:func:`assess` fits the model (:func:`satisfaction.pls.pls`, tested against
seminr and SmartPLS), bootstraps it when asked (:func:`satisfaction.pls_hoc.
bootstrap_stages`, percentile or BCa intervals), and adds what the assessment
of a PLS model reports beside the paths (Hair et al. 2022, chapters 4-6):

* the specific indirect effects along every chain
  (:func:`satisfaction.pls_mediation.specific_indirect`);
* reliability and convergent validity (α, ρA, ρC, AVE) and HTMT, with
  bootstrap intervals when bootstrapped (:func:`satisfaction.pls.reliability`,
  :func:`satisfaction.pls.htmt`, or their higher-order forms in
  :mod:`satisfaction.pls_hoc`);
* with the answers' ranges (a questionnaire's scales, or ``scale``), the 0-100
  index of every construct and, for a ``target``, the importance-performance
  map (:func:`satisfaction.pls.ipma`, :func:`satisfaction.pls.bootstrap_ipma`);
* with ``predict``, Q² by blindfolding and PLSpredict against the linear model
  (:mod:`satisfaction.pls_predict`).

Nothing is estimated here beyond calling those functions; :class:`PLSAssessment`
holds their results and :meth:`PLSAssessment.to_dict` is the command's JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from satisfaction.diagnostics import Diagnostic
from satisfaction.errors import InputError, UsageError

#: Keys every ``parameters`` row of the PLS JSON carries (null without a bootstrap).
PARAMETER_KEYS = ("lhs", "op", "rhs", "est", "se", "ci.lower", "ci.upper")


@dataclass
class PLSAssessment:
    """A PLS fit and its assessment.

    Attributes
    ----------
    result : PLSResult
        The fit (:func:`satisfaction.pls.pls`), bootstrapped when asked.
    indirect : pandas.DataFrame
        Specific indirect effects (``path est se ci.lower ci.upper``).
    reliability : pandas.DataFrame
        α, ρA, ρC and AVE by construct.
    htmt : pandas.DataFrame
        HTMT of every pair of constructs (with bootstrap intervals when bootstrapped).
    ipma : IPMAResult or None
        The 0-100 index of every construct (``ipma.index``) and, for ``target``, the
        importance-performance map; None without the answers' ranges.
    target : str or None
        The construct of the importance-performance map (None: index only).
    q2, prediction : object or None
        Blindfolding Q² and PLSpredict (with ``predict``).
    draws : int
        Bootstrap draws (0: not bootstrapped).
    notes : list[Diagnostic]
        The diagnostics of Q² and PLSpredict (the fit's own are in
        ``result.warnings``, the IPMA's in ``ipma.warnings``).
    """

    result: Any
    indirect: pd.DataFrame
    reliability: pd.DataFrame
    htmt: pd.DataFrame
    ipma: Any = None
    target: str | None = None
    q2: Any = None
    prediction: Any = None
    draws: int = 0
    notes: list[Diagnostic] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``satisfaction fit --estimator pls``: the fit's own
        (:meth:`PLSResult.to_dict`), ``specific_indirect``, with ``predict`` ``q2``,
        ``q2_omission``, ``predict`` and ``predict_settings``, then ``reliability``,
        ``htmt`` and, with the answers' ranges, ``index`` (``index_intervals``) and
        for a target ``ipma`` and ``ipma_indicators``. Every ``parameters`` row has
        ``se``, ``ci.lower`` and ``ci.upper`` (null without a bootstrap)."""
        out = self.result.to_dict()
        out["specific_indirect"] = self.indirect.to_dict("records")
        if self.q2 is not None and self.prediction is not None:
            out["q2"] = self.q2.q2["q2"].to_dict()
            out["q2_omission"] = self.q2.omission
            out["predict"] = self.prediction.items.to_dict("records")
            out["predict_settings"] = {k: v for k, v in self.prediction.to_dict().items()
                                       if k != "items"}
        for row in out["parameters"]:
            for key in PARAMETER_KEYS:
                row.setdefault(key, None)
        out["reliability"] = {str(c): {k: float(v) for k, v in r.items()}
                              for c, r in self.reliability.iterrows()}
        out["htmt"] = self.htmt.to_dict("records")
        if self.ipma is not None:
            out["index"] = dict(self.ipma.index)
            if self.ipma.index_intervals is not None:
                out["index_intervals"] = self.ipma.index_intervals.to_dict("records")
            if self.target is not None:
                out["ipma"] = self.ipma.constructs.to_dict("records")
                out["ipma_indicators"] = self.ipma.indicators.to_dict("records")
        out["warnings"] += [w.to_dict() for w in self.notes]
        if self.ipma is not None:
            out["warnings"] += [w.to_dict() for w in self.ipma.warnings]
        return out


def item_ranges(spec: Any, scale: tuple[float, float] | None
                ) -> tuple[float, float] | dict[str, tuple[float, float]] | None:
    """The answers' ranges for the 0-100 metric: per item from a questionnaire's
    scales, or ``scale`` (``--scale MIN,MAX``) for a lavaan-syntax model (None when
    neither)."""
    if hasattr(spec, "item_scale"):
        if scale is not None:
            raise UsageError("the questionnaire's scales give the item ranges; --scale is for "
                             "lavaan-syntax models", column="--scale")
        return {i.id: (float(spec.item_scale(i).min), float(spec.item_scale(i).max))
                for i in spec.analysed_items}
    return scale


def _name_model(exc: InputError, model: Any) -> None:
    """An error of an option's value raised while estimating names the model file."""
    if exc.file is None and not isinstance(exc, UsageError) and model is not None:
        exc.file = str(model)
        exc.__post_init__()


def assess(spec: Any, data: pd.DataFrame, *, consistent: bool = False,
           missing: str = "listwise", hoc: str = "repeated", bootstrap: int = 0,
           seed: int | None = None, ci: str = "perc", predict: bool = False,
           folds: int = 10, repeats: int = 10, omission: int = 7,
           target: str | None = None, scale: tuple[float, float] | None = None,
           source: Any = None, weights: Any = None) -> PLSAssessment:
    """Fit a PLS path model and assess it (see the module notes).

    Parameters
    ----------
    spec : Questionnaire or str
        The model (a questionnaire, or lavaan syntax with ``=~`` / ``<~`` blocks).
    data : pandas.DataFrame
    consistent : bool
        PLSc (Dijkstra & Henseler 2015) instead of PLS.
    missing : {"listwise", "mean"}
    hoc : {"repeated", "embedded", "disjoint"}
        How second-order constructs are estimated.
    bootstrap, seed, ci
        Bootstrap draws (0: none), their seed and interval (``perc`` or ``bca``).
    predict, folds, repeats, omission
        Q² by blindfolding (omission distance) and PLSpredict (k-fold, repeated).
    target : str, optional
        The construct of the importance-performance map.
    scale : (float, float), optional
        The answers' range of a lavaan-syntax model (a questionnaire's scales give it
        otherwise): the 0-100 index and the IPMA need it.
    source : optional
        The model's file, named in an error of an option's value.
    weights : optional
        Respondent weights (a column, a Series or one number per row): weighted PLS,
        see :func:`satisfaction.pls.pls`; the bootstrap, reliability, HTMT and the
        IPMA use them.
    """
    from satisfaction.pls import bootstrap_ipma, ipma, pls, pls_model
    from satisfaction.pls_hoc import bootstrap_stages, hoc_htmt, hoc_reliability
    from satisfaction.pls_mediation import specific_indirect

    if bootstrap < 0:
        raise UsageError("must be 0 or a positive number of draws", column="--bootstrap",
                         value=bootstrap)
    ranges = item_ranges(spec, scale)
    try:
        if predict and pls_model(spec).higher_order:  # refused before anything is estimated
            raise UsageError("Q² and PLSpredict are not defined for higher-order "
                             "constructs (no published procedure)", column="--predict")
        result = pls(spec, data, consistent=consistent, missing=missing, higher_order=hoc,
                     weights=weights)
        if bootstrap:
            bootstrap_stages(result, bootstrap, seed=seed, ci=ci)
    except InputError as exc:
        _name_model(exc, source)
        raise
    if hoc != "repeated" and not result.higher_order:
        raise UsageError("the model has no higher-order construct ('Stage =~ Dim1 + Dim2' "
                         "or a questionnaire's parent:)", column="--hoc", value=hoc)
    if target is not None and target not in result.model.constructs:
        raise UsageError(f"the IPMA target must be a construct of the model: one of "
                         f"{', '.join(result.model.constructs)}", column="--ipma",
                         value=target)
    out = PLSAssessment(result=result, indirect=specific_indirect(result),
                        reliability=pd.DataFrame(), htmt=pd.DataFrame(), target=target,
                        draws=bootstrap)
    if predict:
        from satisfaction.pls_predict import blindfolding, plspredict

        out.q2 = blindfolding(result, data, omission)
        out.prediction = plspredict(result, data, folds=folds, repeats=repeats, seed=seed)
        out.notes += [*out.q2.warnings, *(w for w in out.prediction.warnings
                                          if w.code != "predict_composite")]
    try:
        if result.higher_order:
            out.reliability = hoc_reliability(result)
        else:
            from satisfaction.pls import reliability

            out.reliability = reliability(result)
        draws = {"draws": bootstrap, "seed": seed} if bootstrap else {}
        if result.higher_order:
            out.htmt = hoc_htmt(result, **draws)
        else:
            from satisfaction.pls import htmt

            out.htmt = htmt(result, **draws)
        if ranges is None:
            if target is not None:
                raise UsageError("the IPMA needs the answers' range: give --scale MIN,MAX",
                                 column="--ipma", value=target)
            return out
        goal = target if target is not None else result.model.constructs[-1]
        if target is not None and bootstrap:
            out.ipma = bootstrap_ipma(result, data, goal, ranges, draws=bootstrap, seed=seed)
        else:
            out.ipma = ipma(result, data, goal, ranges)
    except InputError as exc:
        _name_model(exc, source)
        raise
    return out
