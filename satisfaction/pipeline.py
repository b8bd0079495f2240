"""The whole analysis, stage by stage, in one call.

:func:`run` takes a questionnaire, a responses file and (optionally) a
transactions file and runs every stage in the order of the data flow:

responses → measurement (item statistics, reliability and validity, EFA) →
structural model (with a bootstrap of the indirect and total effects) →
drivers (indices, importance-performance) → group comparisons → customer value
(RFM, ABC, lifecycle, CLV) → survey link → strategy (ranked recommendations).

Each stage's result object is kept as it is in one :class:`Analysis`, and every
warning a stage raised (its own ``warnings`` list, the data-quality log's
notes, and Python warnings emitted while it ran) is collected into one list
with the stage that raised it. The pipeline computes nothing itself; the
report renders what the stages returned.

A stage whose module is not installed is recorded as a warning and its result
is ``None`` so that the report still renders the other sections; any other
error stops the run (a report with silently missing numbers would mislead).
"""

from __future__ import annotations

import importlib
import os
import platform
import time
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import pandas as pd

from satisfaction.diagnostics import Diagnostic
from satisfaction.errors import InputError, SchemaError
from satisfaction.io import records, to_jsonable
from satisfaction.questionnaire import Questionnaire, load_questionnaire
from satisfaction.responses import Responses, load_responses

#: Stages in the order they run (names used in warnings and timings).
STAGES: tuple[str, ...] = (
    "responses", "measurement", "model", "drivers", "compare", "text", "value", "link",
    "strategy",
)

#: Python warnings that are software housekeeping, not findings about the data.
_IGNORED_WARNINGS: tuple[type[Warning], ...] = (DeprecationWarning, FutureWarning,
                                                PendingDeprecationWarning)


@dataclass
class AnalysisWarning:
    """One diagnostic raised while the analysis ran, with the stage that raised it."""

    stage: str
    diagnostic: Diagnostic

    @property
    def message(self) -> str:
        """The English sentence (the report renders :attr:`diagnostic` in its language)."""
        return str(self.diagnostic)

    @property
    def code(self) -> str:
        return self.diagnostic.code

    @property
    def severity(self) -> str:
        return self.diagnostic.severity

    def to_dict(self) -> dict[str, Any]:
        return {"stage": self.stage, **self.diagnostic.to_dict()}


def as_diagnostic(message: str | Diagnostic) -> Diagnostic:
    """A diagnostic as it is; a plain message (a Python warning raised by a library
    while a stage ran) as a caution that quotes it."""
    if isinstance(message, Diagnostic):
        return message
    return Diagnostic("python_warning", "caution", {"message": str(message)})


@dataclass
class Analysis:
    """Every stage's result for one questionnaire and responses file.

    Attributes
    ----------
    questionnaire : Questionnaire
    responses : Responses
        Clean data and the data-quality log.
    item_statistics : DataFrame or None
    reliability, efa : measurement results or None
    sem : SEMResult or None
        The structural model (fit measures, parameters, R², effects).
    indices : IndexResult or None
    ipa : IPAResult or None
        Importance-performance of the drivers of the satisfaction construct.
    compare : CompareResult or None
    value : dict or None
        When transactions were given: ``result`` (the value pipeline's
        ValueResult) and its parts by name (``rfm``, ``abc``, ``lifecycle``,
        ``clv``: the per-customer table), as the strategy rules read them, and
        ``holdout``: the purchase model's holdout validation
        (:class:`~satisfaction.value.validation.HoldoutValidation`; JSON
        ``value.holdout_validation``).
    link : SurveyLink or None
        Survey ⋈ customers: indices by segment, behaviour regressed on the indices.
    recommendations : object or None
        Ranked recommendations with their evidence.
    weighted : WeightedAnalysis or None
        When the questionnaire declares weights (``weighting`` or ``weight``): the
        weights and the weighted item means, top-box shares, indices and group tests
        (:mod:`satisfaction.weights`). The structural model (weighted ML or FIML,
        or weighted PLS), the IPA's construct rows and the key drivers by group use
        the weights too; what stays unweighted is listed in the analysis's
        ``weighted`` section (``weights.NOT_WEIGHTED`` / ``NOT_WEIGHTED_PLS``).
    pls : PLSAnalysis or None
        When PLS path modelling is the estimator (the questionnaire's ``estimator:
        pls``, a formative construct, or a CB-SEM solution that failed a validity
        gate; ``options["estimator"]`` says which and why,
        :mod:`satisfaction.pls_pipeline`): the estimate with its bootstrap, the
        IPMA and the 0-100 index, reliability and HTMT. ``indices`` and ``ipa`` are
        then PLS's; ``sem`` keeps the CB-SEM fit when one was made.
    texts : list of ThemeResult or None
        When the questionnaire has open-ended questions: the themes of each
        (:mod:`satisfaction.text`), dissatisfied and satisfied split by the
        satisfaction index.
    group_drivers : GroupDriversResult or None
        The driver chapter's importance within the groups of each group variable and
        the permutation tests of its differences (:mod:`satisfaction.group_drivers`).
    warnings : list of AnalysisWarning
    options : dict
        ``bootstrap``, ``seed``, ``transactions`` (source) and the key constructs.
    timings : dict
        Seconds per stage (not part of the JSON: it is not deterministic).
    """

    questionnaire: Questionnaire
    responses: Responses
    item_statistics: pd.DataFrame | None = None
    reliability: Any = None
    efa: Any = None
    sem: Any = None
    indices: Any = None
    ipa: Any = None
    compare: Any = None
    value: dict[str, Any] | None = None
    link: Any = None
    recommendations: Any = None
    weighted: Any = None
    pls: Any = None
    texts: list[Any] | None = None
    group_drivers: Any = None
    warnings: list[AnalysisWarning] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def satisfaction(self) -> str | None:
        """Id of the satisfaction construct (``None`` if the model has none)."""
        return self.options.get("satisfaction")

    @property
    def loyalty(self) -> str | None:
        """Id of the loyalty construct (``None`` if the model has none)."""
        return self.options.get("loyalty")

    def to_dict(self) -> dict[str, Any]:
        """All results as the JSON contract (plain values, ``None`` for missing)."""
        out: dict[str, Any] = {
            "questionnaire": self.questionnaire.id,
            "options": dict(self.options),
            "versions": software_versions(),
            "data_quality": self.responses.log.to_dict(),
        }
        if self.item_statistics is not None:
            out["item_statistics"] = _records(self.item_statistics)
        for name in ("reliability", "efa", "sem", "pls", "indices", "ipa", "compare",
                     "group_drivers", "link"):
            result = getattr(self, name)
            out[name] = None if result is None else _as_dict(result)
        out["value"] = None if self.value is None else _as_dict(self.value["result"])
        if self.value is not None and self.value.get("holdout") is not None:
            out["value"]["holdout_validation"] = self.value["holdout"].to_dict()
        out["weighting"] = None if self.weighted is None else self.weighted.to_dict()
        if self.weighted is not None and isinstance(out.get("compare"), dict):
            # the design-based tests in 'weighting' are the primary ones (WeightedAnalysis)
            out["compare"]["tests_primary"] = False
        out["open_ended"] = (None if self.texts is None
                             else [result.to_dict() for result in self.texts])
        out["recommendations"] = (None if self.recommendations is None
                                  else _as_dict(self.recommendations))
        out["warnings"] = [w.to_dict() for w in self.warnings]
        return to_jsonable(out)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return records(frame.reset_index() if frame.index.name is not None else frame)


def _as_dict(result: Any) -> Any:
    if hasattr(result, "to_dict") and not isinstance(result, pd.DataFrame | pd.Series):
        return result.to_dict()
    if isinstance(result, pd.DataFrame):
        return _records(result)
    if isinstance(result, list | tuple):
        return [_as_dict(r) for r in result]
    if isinstance(result, dict):
        return {k: _as_dict(v) for k, v in result.items()}
    return result


def software_versions() -> dict[str, str]:
    """Versions of Python and of the libraries the analysis relies on (installed metadata)."""
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for name in ("satisfaction", "numpy", "pandas", "scipy", "factor_analyzer",
                 "pingouin", "statsmodels", "duckdb", "matplotlib", "weasyprint"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            continue
    return out


#: Why the report cannot run without a satisfaction construct, and what to do.
NO_SATISFACTION_ROLE = ("no construct declares role: satisfaction; the report's index, "
                        "drivers and value link rest on it: add 'role: satisfaction' (and "
                        "'role: loyalty' where there is one) to the construct that measures it")


def key_constructs(q: Questionnaire) -> tuple[str | None, str | None]:
    """The satisfaction and loyalty constructs of a questionnaire: the constructs
    declared ``role: satisfaction`` and ``role: loyalty`` (``None`` when none is),
    never guessed from ids or names."""
    return q.role("satisfaction"), q.role("loyalty")


class _Runner:
    """Runs stages, times them and collects their warnings."""

    def __init__(self, analysis: Analysis, progress: Callable[[str], None] | None) -> None:
        self.analysis = analysis
        self.progress = progress

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        if self.progress is not None:
            self.progress(name)
        start = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield
        self.analysis.timings[name] = self.analysis.timings.get(name, 0.0) + \
            time.perf_counter() - start
        seen = {(w.stage, w.message) for w in self.analysis.warnings}
        for w in caught:
            if issubclass(w.category, _IGNORED_WARNINGS):
                continue
            self.warn(name, getattr(w.message, "diagnostic", None) or str(w.message), seen)

    def warn(self, stage: str, message: str | Diagnostic, seen: set | None = None) -> None:
        """Record a diagnostic of ``stage`` once (a plain text becomes ``python_warning``)."""
        seen = seen if seen is not None else {(w.stage, w.message) for w in self.analysis.warnings}
        diagnostic = as_diagnostic(message)
        if (stage, str(diagnostic)) not in seen:
            seen.add((stage, str(diagnostic)))
            self.analysis.warnings.append(AnalysisWarning(stage, diagnostic))

    def collect(self, stage: str, result: Any) -> None:
        for message in getattr(result, "warnings", None) or []:
            self.warn(stage, message)

    def module(self, stage: str, name: str) -> Any:
        """Import a stage's module; ``None`` (and a warning) when it is not installed."""
        try:
            return importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            self.warn(stage, Diagnostic("stage_unavailable", "invalidates", {"module": name}))
            return None


def run(
    questionnaire: Questionnaire | str | Path,
    responses: str | Path | pd.DataFrame,
    transactions: str | Path | pd.DataFrame | None = None,
    *,
    bootstrap: int = 1000,
    seed: int = 20261125,
    n_jobs: int | None = None,
    clv_models: tuple[str, ...] = ("bgnbd", "gamma_gamma"),
    parallel: bool | None = None,
    progress: Callable[[str], None] | None = None,
    sheet: str | int | None = None,
    header_row: int | None = None,
) -> Analysis:
    """Run every analysis stage and return their results.

    Parameters
    ----------
    questionnaire : Questionnaire or path to its YAML file
    responses : path or DataFrame
        The survey responses (any format :func:`load_responses` reads).
    transactions : path or DataFrame, optional
        The customers' transactions; the customer-value stages run only with them.
    bootstrap : int
        Bootstrap draws for the intervals of the indirect and total effects
        (0: delta-method intervals only).
    seed : int
        Seed of the bootstrap (the same seed gives the same numbers).
    n_jobs : int, optional
        Processes for the bootstrap (default: all cores).
    clv_models : tuple of str
        Purchase and spend models of the value stage. The report's CLV comes from
        BG/NBD with Gamma-Gamma spend; Pareto/NBD (add ``"pareto_nbd"``) is left out
        by default because its fit on 100,000 customers takes minutes, far beyond
        the report's time budget (``satisfaction clv`` fits it).
    parallel : bool, optional
        Run the measurement and customer-value stages in a second process, and the
        invariance tests of the group comparison in a third (default: when the
        machine has two or more cores). The results are the same either way.
    progress : callable, optional
        Called with each stage's name as it starts (for a progress bar).
    sheet, header_row : optional
        Excel responses: the sheet and the header's row (:func:`load_responses`).

    Returns
    -------
    Analysis
    """
    q = (questionnaire if isinstance(questionnaire, Questionnaire)
         else load_questionnaire(questionnaire))
    sat, loy = key_constructs(q)
    if sat is None:  # before any work: the index, drivers and value link rest on it
        raise SchemaError(NO_SATISFACTION_ROLE, file=q.source)
    options = {"bootstrap": int(bootstrap), "seed": int(seed), "clv_models": list(clv_models),
               "transactions": None if transactions is None else _source_name(transactions),
               "satisfaction": sat, "loyalty": loy}
    analysis = Analysis(questionnaire=q, responses=None, options=options)  # type: ignore[arg-type]
    runner = _Runner(analysis, progress)

    with runner.stage("responses"):
        analysis.responses = load_responses(q, responses, sheet=sheet, header_row=header_row)
    log = analysis.responses.log
    runner.collect("responses", log)  # the log's warnings are Diagnostics
    if not analysis.responses.usable:
        raise InputError(
            f"only {log.analysed} respondents are left to analyse after the data-quality "
            f"screens (at least {q.screening.min_respondents} are needed)",
            file=str(log.source))
    data = analysis.responses.data
    respondent_weights = _weights(runner, analysis, responses, sheet=sheet,
                                  header_row=header_row)

    # Measurement and customer value depend only on the data; on two or more cores
    # they run in a second process while the model, drivers and comparisons run here
    # (those are single-threaded Python, so the second core would otherwise idle).
    pool, side, invariant = None, None, None
    if parallel is None:
        parallel = (os.cpu_count() or 1) >= 2
    if parallel:
        # the invariance fits of the compare stage (issue 12: 150 FIML fits) in a
        # worker of their own beside the side stages: the three processes keep both
        # cores busy until the main one needs the side stages' results at the end
        pool = ProcessPoolExecutor(max_workers=2 if q.groups else 1,
                                   mp_context=get_context("spawn"))
        if q.groups:
            invariant = pool.submit(_invariance_tables, q, data,
                                    _weight_series(respondent_weights))
        side = pool.submit(_side_stages, q, data, transactions, clv_models,
                           _weight_series(respondent_weights))
    else:
        _measurement_stage(runner, analysis, data, _weight_series(respondent_weights))
    from satisfaction import pls_pipeline

    choice = pls_pipeline.choose_estimator(q)
    model = runner.module("model", "satisfaction.model") if choice.estimator == "sem" else None
    options["estimator"] = choice.to_dict()
    with runner.stage("model"):  # one stage: the CB-SEM, then PLS when it is chosen
        if model is not None:
            analysis.sem = _fit_model(model, q, data, bootstrap, seed, n_jobs, options,
                                      weights=respondent_weights)
            runner.collect("model", analysis.sem)
            choice = pls_pipeline.fallback(analysis.sem) or choice
            options["estimator"] = choice.to_dict()
        if choice.estimator == "pls":  # the structural results, index and IPMA from PLS
            _warn_first(runner, analysis, pls_pipeline.choice_diagnostic(choice))
            # weighted PLS when the questionnaire declares weights (its pls_weighted note)
            analysis.pls = pls_pipeline.fit_pls_stage(
                q, data, sat, bootstrap=bootstrap, seed=seed,
                weights=None if respondent_weights is None else respondent_weights.weights)
            runner.collect("model", analysis.pls)

    drivers = runner.module("drivers", "satisfaction.drivers")
    if drivers is not None and analysis.pls is not None:
        with runner.stage("drivers"):
            analysis.indices = pls_pipeline.pls_indices(q, analysis.pls, data)
            analysis.ipa = pls_pipeline.pls_ipa(q, analysis.pls, analysis.indices,
                                                bootstrap=bootstrap, seed=seed)
            runner.collect("drivers", analysis.ipa)
    elif drivers is not None:
        with runner.stage("drivers"):
            # the indices weight items by the model's standardized loadings, unless the
            # model is inadmissible: then equally (its loadings are not estimates to use)
            parameters = analysis.sem.parameters if analysis.sem is not None else None
            if analysis.sem is not None and analysis.sem.status == "invalid":
                parameters = None
                runner.warn("drivers", Diagnostic("indices_equal_weights", "info"))
            analysis.indices = drivers.indices(q, data, loadings=parameters)
            if analysis.sem is not None and sat is not None:
                # weighted analysis: the map's performance is the weighted index, its
                # Shapley shares and paired intervals weighted (issue 17)
                performance, w = analysis.indices, None
                if respondent_weights is not None:
                    from satisfaction.weights import weighted_performance

                    w = respondent_weights.weights
                    performance = weighted_performance(analysis.indices, w)
                analysis.ipa = drivers.ipa(q, performance, analysis.sem.effects,
                                           analysis.sem.parameters, target=sat,
                                           sem_status=getattr(analysis.sem, "status", "ok"),
                                           bootstrap=bootstrap, seed=seed, weights=w)
                runner.collect("drivers", analysis.ipa)

    compare = runner.module("compare", "satisfaction.compare")
    if compare is not None and q.groups:
        with runner.stage("compare"):
            weights = analysis.indices.weights if analysis.indices is not None else None
            # numeric groups: design-based weighted correlations with respondent weights
            analysis.compare = compare.compare(
                q, data, weights=weights,
                respondent_weights=_weight_series(respondent_weights))
            analysis.compare.invariance = _invariance_of_groups(
                runner, q, data, invariant, _weight_series(respondent_weights))
            if analysis.ipa is not None and analysis.indices is not None:
                # the driver chapter's decomposition within each group (issue 12, point 3)
                from satisfaction.group_drivers import analysis_group_drivers

                analysis.group_drivers = analysis_group_drivers(
                    q, data, analysis.indices, analysis.ipa, bootstrap=bootstrap, seed=seed,
                    weights=None if respondent_weights is None else respondent_weights.weights)
                runner.collect("compare", analysis.group_drivers)
    if q.open_ended and not analysis.responses.texts.empty:
        text = runner.module("text", "satisfaction.text")
        if text is not None:
            with runner.stage("text"):
                scores = getattr(analysis.indices, "scores", None)
                index = scores[sat] if scores is not None and sat in scores else None
                analysis.texts = text.open_ended_themes(
                    q, analysis.responses.texts, index,
                    weights=_weight_series(respondent_weights))
                for result in analysis.texts:
                    runner.collect("text", result)
    if respondent_weights is not None:
        from satisfaction.weights import weighted_analysis, weighting_scope

        scores = analysis.indices.scores if analysis.indices is not None else None
        pls_used = analysis.pls is not None  # weighted PLS: what is weighted differs
        analysis.weighted = weighted_analysis(q, data, respondent_weights, scores,
                                              estimator="pls" if pls_used else "sem")
        # what stays unweighted (a caution), or, when nothing does, what is weighted
        runner.warn("responses", weighting_scope(analysis.weighted.not_weighted, pls_used))

    try:
        if side is not None:
            _merge(analysis, side.result())
        elif transactions is not None:
            _value_stage(runner, analysis, transactions, clv_models)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    if analysis.value is not None:
        _link_stage(runner, analysis)

    strategy = runner.module("strategy", "satisfaction.strategy")
    if strategy is not None:
        with runner.stage("strategy"):
            findings = strategy.Findings.from_analysis(analysis)
            analysis.recommendations = strategy.recommend(findings)
            runner.collect("strategy", analysis.recommendations)
    order = {stage: k for k, stage in enumerate(STAGES)}
    analysis.warnings.sort(key=lambda w: order.get(w.stage, len(order)))  # stable
    return analysis


def _weights(runner: _Runner, analysis: Analysis, source: Any, **read_options: Any) -> Any:
    """The respondent weights the questionnaire declares (or None), with their notes
    (the design effect as an info) under the ``responses`` stage."""
    q = analysis.questionnaire
    if q.weighting is None and q.weight is None:
        return None
    from satisfaction.weights import compute_weights, read_weight_column

    responses = analysis.responses
    column = None
    if q.weight is not None:
        column = read_weight_column(q, source, responses.data, responses.rows,
                                    **read_options)
    result = compute_weights(q, responses.data, column=column)
    analysis.options["weights"] = result.method
    for note in result.warnings:
        runner.warn("responses", note)
    return result


def _invariance_of_groups(runner: _Runner, q: Questionnaire, data: pd.DataFrame,
                          pending: Future | None = None, weights: pd.Series | None = None
                          ) -> pd.DataFrame | None:
    """Whether each construct's means may be compared across each categorical group
    (configural, metric and scalar invariance of its one-factor model), with its
    cautions under the compare stage; ``pending``: the same computed in the side
    process (:func:`_invariance_tables`); ``weights``: the respondent weights."""
    table, notes = (pending.result() if pending is not None
                    else _invariance_tables(q, data, weights))
    for note in notes:
        runner.warn("compare", note)
    return table


def _invariance_tables(q: Questionnaire, data: pd.DataFrame, weights: pd.Series | None = None
                       ) -> tuple[pd.DataFrame | None, list[Diagnostic]]:
    """The construct invariance table of every categorical group and its cautions,
    in the order of the groups (:func:`satisfaction.invariance.construct_invariance`;
    weighted, lavaan's sampling.weights with MLR, when the analysis has ``weights``)."""
    from satisfaction.compare import MAX_GROUPS
    from satisfaction.invariance import CONSTRUCT_COLUMNS, construct_invariance

    frames, notes = [], []
    for g in q.groups:
        if g.type != "categorical" or g.id not in data.columns or \
                data[g.id].nunique() > MAX_GROUPS:  # not compared either
            continue
        table, group_notes = construct_invariance(q, data, g.id, weights=weights)
        frames.append(table)
        notes += group_notes
    if not frames:
        return None, notes
    return pd.concat(frames, ignore_index=True)[CONSTRUCT_COLUMNS], notes


def _warn_first(runner: _Runner, analysis: Analysis, diagnostic: Diagnostic) -> None:
    """Record the estimator's diagnostic of the model stage before the stage's cautions
    (after what invalidates the CB-SEM), so that the report's limitations name the
    fallback right after the gates it rests on."""
    runner.warn("model", diagnostic)
    if not analysis.warnings or analysis.warnings[-1].diagnostic is not diagnostic:
        return
    note = analysis.warnings.pop()
    at = next((k for k, w in enumerate(analysis.warnings)
               if w.stage == "model" and w.severity != "invalidates"), len(analysis.warnings))
    analysis.warnings.insert(at, note)


def missing_shares(q: Questionnaire, data: pd.DataFrame) -> dict[str, float]:
    """Share of respondents without an answer, per item of the questionnaire."""
    items = [i.id for i in q.items if i.id in data.columns]
    return {k: float(v) for k, v in data[items].isna().mean().items()}


def _fit_model(model: Any, q: Questionnaire, data: pd.DataFrame, bootstrap: int, seed: int,
               n_jobs: int | None, options: dict[str, Any], weights: Any = None) -> Any:
    """The structural model: full-information ML whenever an item is missing.

    With complete data the fit is ML with bootstrap intervals. When any answer
    is missing, listwise deletion would drop every respondent with one gap
    (46 % of the demo sample), so the model is fitted by FIML (lavaan's
    ``missing = "ml"``) on every respondent who answered at least one item, and
    its intervals come from the delta method (a FIML bootstrap refits the
    casewise likelihood for every draw, minutes per report). A complete-data
    solution that fails a validity gate is returned without its bootstrap: the
    analysis falls back to PLS (:mod:`satisfaction.pls_pipeline`), and the
    draws of an inadmissible solution are minutes of work for intervals nobody
    reads. ``options`` records
    the method (``sem_missing``, ``sem_intervals``) and the share missing per item.

    With respondent ``weights`` (a :class:`~satisfaction.weights.WeightResult`) and
    complete data the model is fitted as lavaan's ``sampling.weights`` (MLR, delta
    intervals; :mod:`satisfaction.sem_weights`, its ``sem_weighted`` note), and with
    missing answers by weighted FIML (lavaan's ``sampling.weights`` with ``missing =
    "ml"``). Should the weighted fit be refused (a group whose weights are all 0),
    the FIML fit is unweighted and says so (``sem_weights_not_applied``).
    ``options["sem_weighted"]`` records which.
    """
    shares = missing_shares(q, data)
    options["missing_share"] = shares
    options["sem_weighted"] = False
    if any(v > 0 for v in shares.values()):
        options["sem_missing"], options["sem_intervals"] = "fiml", "delta"
        if weights is not None:
            from satisfaction.errors import InputError
            from satisfaction.sem_weights import fiml_unweighted_diagnostic

            try:
                result = model.fit(q, data, missing="fiml", sampling_weights=weights.weights)
            except InputError:  # the weighted fit refused: unweighted, said so
                result = model.fit(q, data, missing="fiml", n_jobs=n_jobs)
                result.warnings.append(fiml_unweighted_diagnostic())
                return result
            options["sem_weighted"] = True
            return result
        return model.fit(q, data, missing="fiml", n_jobs=n_jobs)
    if weights is not None:
        options["sem_missing"], options["sem_intervals"] = "complete", "delta"
        options["sem_weighted"] = True
        return model.fit(q, data, sampling_weights=weights.weights)
    options["sem_missing"] = "complete"
    if bootstrap:  # an inadmissible solution is not bootstrapped: PLS replaces it
        first = model.fit(q, data, n_jobs=n_jobs)
        if first.status == "invalid":
            options["sem_intervals"] = "delta"
            return first
    options["sem_intervals"] = "bootstrap percentile" if bootstrap else "delta"
    return model.fit(q, data, bootstrap=bootstrap, seed=seed, n_jobs=n_jobs)


def _weight_series(weights: Any) -> pd.Series | None:
    """The respondent weights of a :class:`~satisfaction.weights.WeightResult` (None)."""
    return None if weights is None else weights.weights


def _measurement_stage(runner: _Runner, analysis: Analysis, data: pd.DataFrame,
                       weights: pd.Series | None = None) -> None:
    """Item statistics, reliability and validity, EFA; with respondent ``weights`` (by
    respondent id) all weighted (the CFA as lavaan's sampling.weights, the EFA on the
    weighted correlations; :mod:`satisfaction.reliability`, :mod:`satisfaction.efa`)."""
    q = analysis.questionnaire
    measurement = runner.module("measurement", "satisfaction.measurement")
    if measurement is None:
        return
    with runner.stage("measurement"):
        analysis.item_statistics = measurement.item_statistics(q, data, weights)
        analysis.reliability = measurement.reliability(q, data, weights=weights)
        runner.collect("measurement", analysis.reliability)
        analysis.efa = measurement.efa(data[[i.id for i in q.items]], weights=weights)
        runner.collect("measurement", analysis.efa)


def _side_stages(q: Questionnaire, data: pd.DataFrame, transactions: Any,
                 clv_models: tuple[str, ...], weights: pd.Series | None = None
                 ) -> dict[str, Any]:
    """Measurement and customer value, in a worker process; returns their results."""
    scratch = Analysis(questionnaire=q, responses=None)  # type: ignore[arg-type]
    runner = _Runner(scratch, None)
    _measurement_stage(runner, scratch, data, weights)
    if transactions is not None:
        _value_stage(runner, scratch, transactions, clv_models)
    return {"item_statistics": scratch.item_statistics, "reliability": scratch.reliability,
            "efa": scratch.efa, "value": scratch.value, "warnings": scratch.warnings,
            "timings": scratch.timings}


def _merge(analysis: Analysis, side: dict[str, Any]) -> None:
    for name in ("item_statistics", "reliability", "efa", "value"):
        setattr(analysis, name, side[name])
    analysis.warnings.extend(side["warnings"])
    analysis.timings.update(side["timings"])


@dataclass
class CustomerValues:
    """Per-customer value table (RFM, ABC, lifecycle, P(alive), CLV), as the rules read
    it, with the diagnostics that withheld its values
    (:data:`satisfaction.value.core.WITHHELD_VALUES`): they make the rules' ``clv``
    evidence invalid, so a rule that would read it is listed as not used instead of
    silently finding nothing."""

    data: pd.DataFrame
    warnings: list[Any] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"customers": len(self.data)}


def transaction_columns(source: Any, q: Questionnaire) -> Any:
    """Column names of a transactions source: the customer column is ``customer_id``,
    else the questionnaire's customer-id column name, else ``customer``."""
    from satisfaction.value.transactions import TransactionColumns

    if isinstance(source, pd.DataFrame):
        names = [str(c) for c in source.columns]
    else:
        path = Path(source)
        try:
            if path.suffix.lower() == ".parquet":
                import pyarrow.parquet as pq

                names = list(pq.read_schema(path).names)
            elif path.suffix.lower() in (".csv", ".txt", ".tsv"):
                names = [str(c) for c in pd.read_csv(path, nrows=0, sep=None,
                                                     engine="python").columns]
            else:
                names = []
        except (OSError, ValueError, UnicodeDecodeError):
            names = []  # the loader reports the problem with its own message
    for candidate in ("customer_id", q.customer_id, "customer"):
        if candidate and candidate in names:
            return TransactionColumns(customer=candidate)
    return TransactionColumns()


def _value_stage(runner: _Runner, analysis: Analysis, transactions: Any,
                 clv_models: tuple[str, ...]) -> None:
    """Customer value from transactions: RFM, ABC, lifecycle, CLV."""
    if runner.module("value", "satisfaction.value.pipeline") is None:
        return
    from satisfaction.value.core import WITHHELD_VALUES
    from satisfaction.value.pipeline import value_analysis
    from satisfaction.value.transactions import load_transactions

    with runner.stage("value"):
        tx = load_transactions(transactions, transaction_columns(transactions,
                                                                 analysis.questionnaire))
        result = value_analysis(tx, models=clv_models)
        analysis.value = {"result": result, "rfm": result.rfm, "abc": result.abc,
                          "lifecycle": result.lifecycle,
                          "clv": CustomerValues(result.customers, [
                              d for d in result.warnings if d.code in WITHHELD_VALUES])}
        # the value pipeline's diagnostics: exclusions by reason, the margin basis,
        # each purchase and spend model's gates
        runner.collect("value", result)
        # is the purchase model fit for these customers? Fitted again on the first half
        # of the window, checked on the second (value/validation.py, FHL 2005a)
        purchase = result.settings.get("purchase_model")  # the model the values come from
        if purchase is not None:
            from satisfaction.value.validation import holdout_validation

            holdout = holdout_validation(tx, model=purchase,
                                         time_unit=result.settings["time_unit"])
            analysis.value["holdout"] = holdout
            for d in holdout.warnings:  # why no check was made (the fit's gates: its chart)
                if d.code.startswith("clv_holdout_"):
                    runner.warn("value", d)


def _link_stage(runner: _Runner, analysis: Analysis) -> None:
    """Survey ⋈ customers: indices by segment, behaviour regressed on the indices."""
    result = analysis.value["result"] if analysis.value else None
    link = runner.module("link", "satisfaction.value.link")
    if link is None or analysis.indices is None or result is None:
        return
    q, data = analysis.questionnaire, analysis.responses.data
    if not q.customer_id or q.customer_id not in data.columns:
        runner.warn("link", Diagnostic("no_customer_id", "info"))
        return
    with runner.stage("link"):
        scores = analysis.indices.scores
        constructs = [c for c in (analysis.satisfaction, analysis.loyalty)
                      if c is not None and c in scores.columns]
        frame = scores[constructs].copy()
        frame["__customer__"] = data[q.customer_id].reindex(frame.index)
        analysis.link = link.link_survey(
            frame, result.customers, customer_column="__customer__", constructs=constructs,
            exposure=analysis.satisfaction if analysis.satisfaction in constructs else None,
            mediator=analysis.loyalty if analysis.loyalty in constructs else None,
            seed=analysis.options.get("seed", 20261125),
            # a weighted survey: segment means, tests, relations, mediation weighted
            weights=None if analysis.weighted is None else analysis.weighted.weights.weights)
        runner.collect("link", analysis.link)


def _source_name(source: Any) -> str:
    return "<DataFrame>" if isinstance(source, pd.DataFrame) else str(source)
