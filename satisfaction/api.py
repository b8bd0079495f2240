"""The public Python API: one function per command, one argument order.

Every function takes what it analyses first, the data second and options by
keyword: ``function(questionnaire_or_model, data, *, options)``. The
questionnaire may be a :class:`~satisfaction.questionnaire.Questionnaire`, a
YAML path or the name of a shipped questionnaire (``"ecsi_bank"``); the data a
DataFrame or a file (CSV, TSV, XLSX, SAV, Parquet). With a questionnaire the
responses are always screened by :func:`satisfaction.responses.load_responses`
first (the same exclusions, counted under the same reasons, as on the command
line); a lavaan-syntax model reads the data as they are.

Each function returns the result object of the module that owns the statistic;
every result has ``to_dict()`` giving the command's ``--json``. The command line
(:mod:`satisfaction.cli`, :mod:`satisfaction.commands`) is a thin layer over these
functions: it parses the options, calls the function, prints and writes. The
data may also be the :class:`~satisfaction.responses.Responses` of
:func:`validate` (screened once, e.g. to print the screening log first).

===============  ==========================================  ====================================
function         result                                      statistics (module, reference)
===============  ==========================================  ====================================
``validate``     :class:`~satisfaction.responses.Responses`  screening log (``responses``)
``reliability``  ``ReliabilityResult``                       α, ω, CR, AVE, HTMT (psych, semTools)
``efa``          ``EFAResult``                               KMO, parallel analysis (psych::fa)
``fit``          ``SEMResult`` or ``PLSResult``              CB-SEM (lavaan), PLS-PM (seminr)
``invariance``   ``InvarianceResult``                        configural → strict (lavaan)
``compare``      ``CompareResult``                           group tests (R's stats)
``rfm``          ``ValueResult``                             RFM, ABC, lifecycle
``clv``          ``ValueResult``                             BG/NBD, Pareto/NBD, Gamma-Gamma
``report``       ``(Analysis, ReportFiles)``                 the whole pipeline and the PDF
``demo``         ``dict``                                    the pipeline on simulated data
``weight``       ``WeightResult``                            raking, post-stratification (survey)
===============  ==========================================  ====================================

Example
-------
>>> from satisfaction import api
>>> from satisfaction.simulate import simulate_demo
>>> demo = simulate_demo(n_respondents=300, n_customers=50, seed=1)
>>> responses = api.validate(demo.questionnaire, demo.responses)
>>> responses.log.loaded, responses.log.analysed   # 6 screened out, each under its reason
(300, 294)
>>> rel = api.reliability(demo.questionnaire, demo.responses)
>>> print(round(float(rel.constructs.loc["Brand", "alpha"]), 3))
0.873
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from satisfaction.errors import InputError, UsageError
from satisfaction.io import check_data_file

if TYPE_CHECKING:
    import pandas as pd

    from satisfaction.compare import CompareResult
    from satisfaction.efa import EFAResult
    from satisfaction.invariance import InvarianceResult
    from satisfaction.model import SEMResult
    from satisfaction.pls_assessment import PLSAssessment
    from satisfaction.questionnaire import Questionnaire
    from satisfaction.reliability import ReliabilityResult
    from satisfaction.responses import Responses
    from satisfaction.value.pipeline import ValueResult
    from satisfaction.value.transactions import TransactionColumns
    from satisfaction.weights import WeightResult

__all__ = ["clv", "compare", "demo", "efa", "fit", "invariance", "pls", "pls_groups",
           "reliability", "report", "rfm", "validate", "weight"]


def as_questionnaire(source: Questionnaire | str | Path) -> Questionnaire:
    """A :class:`Questionnaire` from itself, a YAML path or a shipped name."""
    from satisfaction.questionnaire import Questionnaire, load_questionnaire

    return source if isinstance(source, Questionnaire) else load_questionnaire(source)


def _screened(q: Questionnaire, data: pd.DataFrame | str | Path | Responses, *,
              sheet: str | int | None = None, header_row: int | None = None) -> Responses:
    """The responses screened against ``q`` (as given when already screened)."""
    check_data_file(data)
    from satisfaction.responses import Responses, load_responses

    if isinstance(data, Responses):
        return data
    return load_responses(q, data, sheet=sheet, header_row=header_row)


def _source(data: Any) -> Any:
    """The file (or frame) the responses came from, to read a further column of it
    (the respondent weights)."""
    from satisfaction.responses import Responses

    return str(data.log.source) if isinstance(data, Responses) else data


def _is_questionnaire(model: Any) -> bool:
    """A questionnaire (object, YAML file or shipped name), not lavaan syntax."""
    from satisfaction.questionnaire import Questionnaire, shipped_questionnaire

    if isinstance(model, Questionnaire):
        return True
    if isinstance(model, str) and "\n" in model:  # syntax as text
        return False
    return shipped_questionnaire(model).suffix.lower() in (".yaml", ".yml")


def model_data(model: Questionnaire | str | Path, data: pd.DataFrame | str | Path | Responses,
               ) -> tuple[Any, pd.DataFrame, Any]:
    """The model and its data: ``(questionnaire, screened answers, screening log)`` for a
    questionnaire (:func:`validate`), ``(syntax, table as read, None)`` for lavaan syntax
    (text or a ``.lav``/``.txt`` file)."""
    check_data_file(data)
    from satisfaction.responses import Responses

    if _is_questionnaire(model):
        q = as_questionnaire(model)
        loaded = _screened(q, data)
        return q, loaded.data, loaded.log
    if isinstance(data, Responses):
        return model, data.data, data.log
    if isinstance(data, str | Path):
        from satisfaction.responses import read_table

        frame, _ = read_table(data)
        return model, frame, None
    return model, data, None


def _name_file(exc: InputError, source: Any) -> None:
    """An error of an option's value raised while estimating names the data file."""
    if exc.file is None and not isinstance(exc, UsageError) and isinstance(source, str | Path):
        exc.file = str(source)
        exc.__post_init__()


def validate(questionnaire: Questionnaire | str | Path,
             data: pd.DataFrame | str | Path, *, sheet: str | int | None = None,
             header_row: int | None = None) -> Responses:
    """Read and screen responses against a questionnaire (``satisfaction validate``).

    Returns :class:`~satisfaction.responses.Responses`: ``data`` (the clean
    answers, reverse-coded items recoded) and ``log`` (every excluded respondent
    and value under a named reason; the counts add up). A questionnaire that
    declares no satisfaction construct gets the caution ``no_satisfaction_role``
    (the index, drivers and value link rest on it). ``sheet`` and ``header_row``
    are for Excel files.
    """
    check_data_file(data)  # before the statistics' imports
    q = as_questionnaire(questionnaire)
    responses = _screened(q, data, sheet=sheet, header_row=header_row)
    if q.role("satisfaction") is None:
        from satisfaction.diagnostics import Diagnostic

        responses.log.warnings.append(Diagnostic("no_satisfaction_role", "caution", {}))
    return responses


def reliability(questionnaire: Questionnaire | str | Path,
                data: pd.DataFrame | str | Path | Responses, *, level: float = 0.95,
                htmt_thresholds: tuple[float, float] | None = None,
                sheet: str | int | None = None,
                header_row: int | None = None,
                weights: str | pd.Series | None = None) -> ReliabilityResult:
    """Item statistics, α, ω, CR, AVE, Fornell-Larcker and HTMT (``satisfaction reliability``).

    See :func:`satisfaction.reliability.reliability` (tested against psych and
    semTools). ``weights``: the respondent weights, as in :func:`fit` (a column of the
    responses, a Series, ``"none"``, by default the questionnaire's declared
    weights); the CFA is then lavaan's ``sampling.weights`` and α, HTMT and the item
    statistics are weighted (tested against lavaan, semTools, psych and survey).
    """
    check_data_file(data)  # before the statistics' imports
    from satisfaction.reliability import HTMT_THRESHOLDS
    from satisfaction.reliability import reliability as run

    q = as_questionnaire(questionnaire)
    answers = _screened(q, data, sheet=sheet, header_row=header_row).data
    w = _sampling_weights(q, answers, _source(data), weights)
    return run(q, answers, level=level, htmt_thresholds=htmt_thresholds or HTMT_THRESHOLDS,
               weights=w)


def efa(questionnaire: Questionnaire | str | Path,
        data: pd.DataFrame | str | Path | Responses, *, n_factors: int | None = None,
        method: str = "minres", rotation: str = "oblimin", seed: int = 0,
        sheet: str | int | None = None, header_row: int | None = None,
        weights: str | pd.Series | None = None) -> EFAResult:
    """Exploratory factor analysis of the questionnaire's items (``satisfaction efa``).

    See :func:`satisfaction.efa.efa` (tested against psych::fa and
    factor-analyzer); ``n_factors=None`` takes the number from parallel analysis.
    A number of factors that the items cannot carry (at least one fewer than the
    items) is refused before the data are read. ``weights``: the respondent weights,
    as in :func:`fit`; the weighted correlation matrix is analysed
    (``psych::fa(weight=)``).
    """
    check_data_file(data)  # before the statistics' imports
    from satisfaction.efa import efa as run

    q = as_questionnaire(questionnaire)
    check_n_factors(q, n_factors)
    items = [i.id for i in q.items]
    answers = _screened(q, data, sheet=sheet, header_row=header_row).data
    w = _sampling_weights(q, answers, _source(data), weights)
    return run(answers[items], n_factors=n_factors, method=method,  # type: ignore[arg-type]
               rotation=rotation, seed=seed, weights=w)  # type: ignore[arg-type]


def check_n_factors(questionnaire: Questionnaire, n_factors: int | None) -> None:
    """Refuse a number of factors the questionnaire's items cannot carry (at least one
    fewer than the items), naming the option ``--factors``."""
    p = len(questionnaire.items)
    if n_factors is not None and n_factors >= p:
        raise UsageError(f"the number of factors must be between 1 and {p - 1} "
                         f"for the {p} items of the questionnaire",
                         column="--factors", value=n_factors)


def _sampling_weights(model: Any, frame: pd.DataFrame, source: Any,
                      weights: str | pd.Series | None) -> Any:
    """The respondent weights of a CB-SEM fit: a Series as given, ``"none"`` for none,
    a column name, else the questionnaire's ``weighting``/``weight``
    (:func:`satisfaction.sem_weights.command_weights`)."""
    if weights is not None and not isinstance(weights, str):
        return weights
    from satisfaction.sem_weights import command_weights

    return command_weights(model, frame, source, weights)


def fit(model: Questionnaire | str | Path, data: pd.DataFrame | str | Path | Responses,
        *, estimator: str = "ml", weights: str | pd.Series | None = None,
        modindices: bool = False, scores: str | None = None, **options: Any
        ) -> SEMResult | Any:
    """Fit a structural equation model (``satisfaction fit``).

    ``model`` is a questionnaire or lavaan syntax (text or a ``.lav``/``.txt``
    file). Options are those of :func:`satisfaction.model.fit` (``missing``,
    ``estimator`` ``"ml" | "mlr" | "mlm" | "wlsmv"``, ``group``, ``group_equal``,
    ``bootstrap``, ``ci``, ``ordered`` ...; tested against lavaan), or with
    ``estimator="pls"``/``"plsc"`` those of :func:`satisfaction.pls.pls`
    (tested against seminr and SmartPLS).

    ``weights`` are the respondent weights, fitted as lavaan's
    ``sampling.weights`` (:mod:`satisfaction.sem_weights`), or under PLS by
    weighted PLS (:func:`satisfaction.pls.pls`): a column of the data, a Series,
    ``"none"``, or by default the questionnaire's declared weights.
    ``modindices=True`` adds the modification indices (``result.modindices``, in
    the JSON); ``scores="regression" | "bartlett"`` the factor scores of the
    analysed respondents (``result.scores``: the respondent id or data-row number,
    the group, one column per latent variable). With a questionnaire,
    ``result.data_quality`` is the screening log (in the JSON).
    """
    if estimator in ("pls", "plsc"):
        from satisfaction.pls import pls

        m, frame, _ = model_data(model, data)
        w = _sampling_weights(m, frame, _source(data), weights)
        return pls(m, frame, consistent=estimator == "plsc", weights=w, **options)
    m, frame, log = model_data(model, data)
    from satisfaction.model import fit as run

    ordinal = estimator in ("wlsmv", "wlsm", "ulsmv")
    source = _source(data)
    if "sampling_weights" not in options and not ordinal:
        options["sampling_weights"] = _sampling_weights(m, frame, source, weights)
    if options.get("sampling_weights") is not None and modindices:
        raise UsageError("not available with respondent weights yet (add --weights none)",
                         column="--modindices")
    try:
        result = run(m, frame, estimator=estimator, **options)
    except InputError as exc:
        _name_file(exc, source)
        raise
    result.data_quality = log
    if modindices:
        from satisfaction.modindices import modindices as run_mi

        result.modindices = run_mi(result)
    if scores is not None:
        result.scores = _score_table(result, frame, scores, options.get("group"))
    return result


def _score_table(result: SEMResult, data: pd.DataFrame, method: str, group: str | None
                 ) -> pd.DataFrame:
    """Factor scores (:func:`satisfaction.scores.factor_scores`, lavaan's lavPredict) of
    the analysed respondents beside their id (or data-row number, 1 = the first row
    under the header) and group."""
    import pandas as pd

    from satisfaction.scores import factor_scores

    fs = factor_scores(result, data, method=method)
    if data.index.name is not None:
        ids = pd.Series(fs.index, name=str(data.index.name))
    else:
        ids = pd.Series(data.index.get_indexer(fs.index) + 1, name="row")
    return pd.concat([ids.reset_index(drop=True)]
                     + ([data.loc[fs.index, group].reset_index(drop=True)] if group else [])
                     + [fs.reset_index(drop=True)], axis=1)


def pls(model: Questionnaire | str | Path, data: pd.DataFrame | str | Path | Responses, *,
        consistent: bool = False, missing: str = "listwise", hoc: str = "repeated",
        bootstrap: int = 0, seed: int | None = None, ci: str = "perc", predict: bool = False,
        folds: int = 10, repeats: int = 10, omission: int = 7, ipma_target: str | None = None,
        scale: tuple[float, float] | None = None,
        weights: str | pd.Series | None = None) -> PLSAssessment:
    """A PLS path model and its assessment (``satisfaction fit --estimator pls|plsc``).

    :func:`satisfaction.pls_assessment.assess`: the fit (tested against seminr and
    SmartPLS), bootstrap intervals, specific indirect effects, reliability, HTMT,
    the 0-100 index and with ``ipma_target`` the importance-performance map, with
    ``predict`` Q² and PLSpredict. ``scale`` is the answers' range ``(MIN, MAX)`` of
    a lavaan-syntax model (a questionnaire's scales give it otherwise). ``weights``:
    the respondent weights of weighted PLS, as in :func:`fit` (a column, a Series,
    ``"none"``, by default the questionnaire's declared weights); Q² and PLSpredict
    then use them too (:mod:`satisfaction.pls_predict`). Its ``to_dict()`` is the
    command's JSON.
    """
    check_data_file(data)  # before the statistics' imports
    from satisfaction.pls_assessment import assess

    if bootstrap < 0:
        raise UsageError("must be 0 or a positive number of draws", column="--bootstrap",
                         value=bootstrap)
    if ipma_target is not None and scale is None and not _is_questionnaire(model):
        raise UsageError("the IPMA of a lavaan-syntax model needs the answers' range: add "
                         "--scale MIN,MAX", column="--ipma", value=ipma_target)
    m, frame, _ = model_data(model, data)
    w = _sampling_weights(m, frame, _source(data), weights)
    return assess(m, frame, consistent=consistent, missing=missing, hoc=hoc, weights=w,
                  bootstrap=bootstrap, seed=seed, ci=ci, predict=predict, folds=folds,
                  repeats=repeats, omission=omission, target=ipma_target, scale=scale,
                  source=model if isinstance(model, str | Path) else None)


#: PLS-MGA bootstrap draws per group when none are given (:func:`pls_groups`).
PLS_GROUP_DRAWS = 1000
#: Permutations per pair of groups when none are given (:func:`pls_groups`).
PLS_GROUP_PERMUTATIONS = 1000


def pls_groups(model: Questionnaire | str | Path,
               data: pd.DataFrame | str | Path | Responses, *, group: str,
               consistent: bool = False, permutations: int | None = None,
               bootstrap: int = 0, seed: int | None = None, missing: str = "listwise",
               group_equal: str | Sequence[str] | None = None,
               group_partial: str | Sequence[str] | None = None,
               weights: str | pd.Series | None = None) -> Any:
    """PLS per group, MICOM and the path differences (permutation test and PLS-MGA)
    (``satisfaction fit --estimator pls|plsc --group COL``;
    :func:`satisfaction.pls_groups.pls_groups`).

    ``permutations`` defaults to :data:`PLS_GROUP_PERMUTATIONS`; ``bootstrap`` sets
    the PLS-MGA draws per group (default :data:`PLS_GROUP_DRAWS`). Respondents with a
    missing answer are left out listwise (and counted); every group is estimated
    freely (``group_equal``/``group_partial`` are refused). ``weights``: respondent
    weights as in :func:`fit` (a column, a Series, ``"none"``, by default the
    questionnaire's declared weights): weighted PLS per group, the bootstrap and the
    permutations carrying each respondent's weight, MICOM on weighted composites.
    """
    check_data_file(data)  # before the statistics' imports
    from satisfaction.pls_groups import pls_groups as run

    for option, value in (("--group-equal", group_equal), ("--group-partial", group_partial)):
        if value:
            raise UsageError("applies to the covariance-based multi-group fit; the PLS group "
                             "analysis estimates every group freely", column=option,
                             value=value if isinstance(value, str) else ",".join(value))
    permutations = PLS_GROUP_PERMUTATIONS if permutations is None else permutations
    if missing != "listwise":
        raise UsageError("the PLS group analysis leaves respondents with a missing answer out "
                         "(listwise, counted); other treatments are not supported with --group",
                         column="--missing", value=missing)
    if bootstrap < 0:
        raise UsageError("must be 0 or a positive number of draws", column="--bootstrap",
                         value=bootstrap)
    if permutations < 20:
        raise UsageError("must be at least 20 permutations", column="--permutations",
                         value=permutations)
    m, frame, _ = model_data(model, data)
    w = _sampling_weights(m, frame, _source(data), weights)
    try:
        return run(m, frame, group, permutations=permutations,
                   draws=bootstrap or PLS_GROUP_DRAWS, seed=seed, consistent=consistent,
                   weights=w)
    except InputError as exc:
        _name_file(exc, _source(data))  # the model's own errors carry its file already
        raise


def invariance(model: Questionnaire | str | Path, data: pd.DataFrame | str | Path | Responses,
               *, group: str, group_partial: Sequence[str] = (), missing: str = "listwise",
               estimator: str = "ml", weights: str | pd.Series | None = None
               ) -> InvarianceResult:
    """Configural, metric, scalar and strict invariance across ``group``
    (``satisfaction invariance``; :func:`satisfaction.invariance.invariance`,
    tested against lavaan). ``weights``: the respondent weights, as in :func:`fit`
    (a column, a Series, ``"none"``, by default the questionnaire's declared
    weights); every step is then lavaan's ``cfa(..., sampling.weights =)`` with MLR
    and the steps are compared by the Satorra-Bentler (2001) scaled difference and
    the robust CFI/RMSEA (tested against lavaan's ``lavTestLRT``)."""
    check_data_file(data)  # before the statistics' imports
    from satisfaction.invariance import invariance as run

    m, frame, _ = model_data(model, data)
    w = _sampling_weights(m, frame, _source(data), weights)
    return run(m, frame, group, group_partial=group_partial, missing=missing,
               estimator=estimator, weights=w)


def compare(questionnaire: Questionnaire | str | Path,
            data: pd.DataFrame | str | Path | Responses, *,
            by: str | list[str] | None = None, adjust: str = "holm", alpha: float = 0.05,
            method: str = "pearson", sheet: str | int | None = None,
            header_row: int | None = None) -> CompareResult:
    """Group comparisons of the construct indices (``satisfaction compare``;
    :func:`satisfaction.compare.compare`, tested against R's stats).

    A questionnaire that declares respondent weights (``weighting:`` or
    ``weight:``) also gets the design-based tests of every index across every
    categorical group (:func:`satisfaction.weights.weighted_group_tests`, tested
    against R's survey) in ``result.weighted``, and the caution
    ``compare_weighted``: the other tests describe the unweighted sample. Its
    correlations with numeric group variables are the design-based weighted ones
    (:func:`satisfaction.compare.weighted_association`, tested against R's survey;
    info ``compare_associations_weighted``).
    """
    check_data_file(data)  # before the statistics' imports
    from satisfaction.compare import compare as run

    q = as_questionnaire(questionnaire)
    loaded = _screened(q, data, sheet=sheet, header_row=header_row)
    if q.weighting is None and q.weight is None:
        return run(q, loaded.data, by=by, adjust=adjust, alpha=alpha, method=method)
    from satisfaction.diagnostics import Diagnostic
    from satisfaction.drivers import construct_scores
    from satisfaction.weights import compute_weights, read_weight_column, weighted_group_tests

    column = (read_weight_column(q, _source(data), loaded.data, loaded.rows, sheet=sheet,
                                 header_row=header_row) if q.weight is not None else None)
    found = compute_weights(q, loaded.data, column=column)
    result = run(q, loaded.data, by=by, adjust=adjust, alpha=alpha, method=method,
                 respondent_weights=found.weights)
    tests = weighted_group_tests(q, loaded.data, construct_scores(q, loaded.data),
                                 found.weights)
    if by:
        chosen = [by] if isinstance(by, str) else list(by)
        tests = tests[tests["by"].isin([q.group(b).id for b in chosen])].reset_index(drop=True)
    result.weighted = tests
    # never silently unweighted
    if len(tests):
        result.warnings.append(Diagnostic("compare_weighted", "caution", {"n": len(tests)}))
    if len(result.associations):
        result.warnings.append(Diagnostic(
            "compare_associations_weighted", "info",
            {"by": ", ".join(dict.fromkeys(result.associations["by"]))}))
    return result


def weight(questionnaire: Questionnaire | str | Path, data: pd.DataFrame | str | Path, *,
           sheet: str | int | None = None, header_row: int | None = None) -> WeightResult:
    """The respondent weights the questionnaire declares (``satisfaction weight``):
    ``weighting`` (raking or post-stratification,
    :func:`satisfaction.weights.compute_weights`, tested against R's survey) or a
    ``weight`` column (:func:`satisfaction.weights.read_weight_column`)."""
    check_data_file(data)  # before the statistics' imports
    from satisfaction.errors import SchemaError
    from satisfaction.weights import compute_weights, read_weight_column

    q = as_questionnaire(questionnaire)
    if q.weighting is None and q.weight is None:
        raise SchemaError("the questionnaire declares no weights: add 'weighting: {method: "
                          "rake, margins: {GROUP: {CODE: share, ...}}}' or 'weight: COLUMN'",
                          file=q.source)
    loaded = _screened(q, data, sheet=sheet, header_row=header_row)
    column = None
    if q.weight is not None:
        column = read_weight_column(q, _source(data), loaded.data, loaded.rows, sheet=sheet,
                                    header_row=header_row)
    return compute_weights(q, loaded.data, column=column)


def _transactions(transactions: str | Path, columns: TransactionColumns | None,
                  returns: str, keep_duplicates: bool, today: str | None,
                  date_format: str | None) -> Any:
    """The transactions loaded and screened, every excluded row listed (the ``--json``
    carries them all, as ``validate``'s does)."""
    from satisfaction.value.transactions import TransactionColumns, load_transactions

    return load_transactions(transactions, columns or TransactionColumns(),
                             returns=returns,  # type: ignore[arg-type]
                             today=today, duplicates="keep" if keep_duplicates else "exclude",
                             date_format=date_format, max_problems=None)


def _on_spark(transactions: str | Path, columns: TransactionColumns | None,
              spark_master: str | None, **options: Any) -> ValueResult:
    """The value analysis with Spark as the engine (:func:`satisfaction.value.spark.run`)."""
    from satisfaction.value.checks import TransactionColumns
    from satisfaction.value.spark import run

    return run(transactions, columns or TransactionColumns(), spark_master=spark_master,
               **options)


def rfm(transactions: str | Path, columns: TransactionColumns | None = None, *,
        period_end: str | None = None, returns: str = "net", keep_duplicates: bool = False,
        today: str | None = None, date_format: str | None = None,
        engine: str = "duckdb", spark_master: str | None = None) -> ValueResult:
    """RFM scores and segments, ABC classes, lifecycle stages (``satisfaction rfm``).

    ``transactions`` is the file; ``columns`` names its customer, date and
    amount columns (:class:`~satisfaction.value.transactions.TransactionColumns`).
    Options as ``satisfaction rfm``: ``period_end``, ``returns`` (``"net"`` or
    ``"exclude"``), ``keep_duplicates``, ``today``, ``date_format``
    (:func:`satisfaction.value.pipeline.value_analysis` without CLV models).

    ``engine`` is who reads, checks and aggregates the transactions: ``"duckdb"``
    (embedded, the default) or ``"spark"`` (PySpark on ``spark_master``, default
    ``local[*]``; with ``spark_master`` a cluster URL, the file or table is read
    there; :mod:`satisfaction.value.spark`). Only that changes: the exclusions, the
    per-customer table and everything computed from it are the same on both engines
    (tests/test_spark.py compares them exactly); ``result.engine`` says which ran.
    """
    from satisfaction.value.checks import check_engine

    check_engine(engine)
    if engine == "spark":
        return _on_spark(transactions, columns, spark_master, period_end=period_end,
                         returns=returns, keep_duplicates=keep_duplicates, today=today,
                         date_format=date_format, models=())
    from satisfaction.value.pipeline import value_analysis

    tx = _transactions(transactions, columns, returns, keep_duplicates, today, date_format)
    return value_analysis(tx, period_end=period_end, models=())


def clv(transactions: str | Path, columns: TransactionColumns | None = None, *,
        period_end: str | None = None, time_unit: str = "week", horizon: int | None = None,
        discount_rate: float = 0.10, returns: str = "net", keep_duplicates: bool = False,
        today: str | None = None,
        models: tuple[str, ...] = ("bgnbd", "pareto_nbd", "gamma_gamma"),
        date_format: str | None = None,
        engine: str = "duckdb", spark_master: str | None = None) -> ValueResult:
    """Customer lifetime value with BG/NBD, Pareto/NBD and Gamma-Gamma (``satisfaction clv``).

    Options as ``satisfaction clv`` (``period_end``, ``time_unit``, ``horizon``,
    ``discount_rate``, ``models`` ...; :func:`satisfaction.value.pipeline.value_analysis`);
    tested against the published CDNOW estimates and lifetimes. Transactions after
    ``period_end`` form the holdout: ``result.holdout``.

    ``engine`` (``"duckdb"`` or ``"spark"``) and ``spark_master`` as in :func:`rfm`:
    the engine reads, checks and aggregates the transactions to the per-customer
    table; the models are fitted on that table alike, so the results are the same.
    """
    from satisfaction.value.checks import check_engine

    check_engine(engine)
    if engine == "spark":
        return _on_spark(transactions, columns, spark_master, period_end=period_end,
                         time_unit=time_unit, horizon=horizon, discount_rate=discount_rate,
                         returns=returns, keep_duplicates=keep_duplicates, today=today,
                         date_format=date_format, models=models)
    from satisfaction.value.pipeline import value_analysis

    tx = _transactions(transactions, columns, returns, keep_duplicates, today, date_format)
    return value_analysis(tx, period_end=period_end, time_unit=time_unit,  # type: ignore[arg-type]
                          horizon=horizon, discount_rate=discount_rate, models=models)


def satisfaction_index(analysis: Any) -> dict[str, Any] | None:
    """The satisfaction construct's index as the report's index table and headline card
    show it: ``{"construct", "index", "ci.lower", "ci.upper", "weighted"}``.

    With respondent weights it is the weighted mean of the respondents' 0-100 scores
    with its design-based interval (R survey's ``svymean``;
    :func:`satisfaction.report.weighted_context.weighted_view`), and ``weighted`` holds
    the weighting method, the effective n and the number of weights; else ``weighted``
    is ``None``. ``None`` when the analysis has no index of the satisfaction construct.
    """
    from satisfaction.report.weighted_context import weighted_view

    cid = getattr(analysis, "satisfaction", None)
    if cid is None or getattr(analysis, "indices", None) is None:
        return None
    rows = weighted_view(analysis).indices.constructs.set_index("construct")
    if cid not in rows.index:
        return None
    r = rows.loc[cid]
    weighted = getattr(analysis, "weighted", None)
    design = None
    if weighted is not None:
        w = weighted.weights
        design = {"method": w.method, "effective_n": float(w.effective_n),
                  "n": len(w.weights)}
    return {"construct": cid, "index": float(r["index"]), "ci.lower": float(r["ci.lower"]),
            "ci.upper": float(r["ci.upper"]), "weighted": design}


def report(questionnaire: Questionnaire | str | Path, data: str | Path, *,
           transactions: str | Path | None = None, lang: str = "en",
           out: str | Path | None = None, html: str | Path | None = None,
           excel: str | Path | None = None, json: str | Path | None = None,
           bootstrap: int = 1000, seed: int = 20261125, n_jobs: int | None = None,
           progress: Callable[[str], None] | None = None, sheet: str | None = None,
           header_row: int | None = None,
           previous: str | Path | None = None) -> tuple[Any, Any]:
    """The whole analysis and the report (``satisfaction report``).

    Runs :func:`satisfaction.pipeline.run` and writes the PDF ``out`` (default
    ``reports/<data stem>_<lang>.pdf``) and, when given, the same report as HTML,
    every table as an Excel workbook and all results as JSON. Every output is
    checked before the analysis starts. ``previous`` is the ``--json`` results
    of an earlier wave of the same questionnaire: each index's change since then
    is tested (:func:`satisfaction.waves.compare_waves`) and shown. ``progress``
    is called with the name of each stage as it starts.

    Returns
    -------
    (Analysis, ReportFiles)
    """
    if lang not in ("en", "zh"):
        raise UsageError("expected 'en' or 'zh'", column="--lang", value=lang)
    if bootstrap < 0:
        raise UsageError("--bootstrap must be 0 or more", column="--bootstrap", value=bootstrap)
    check_data_file(data)
    if transactions is not None:
        check_data_file(transactions, folder=True)  # a folder of Parquet files is data
    from satisfaction.io import check_outputs
    from satisfaction.pipeline import run
    from satisfaction.report.render import write_report

    if out is None:
        out = Path("reports") / f"{Path(data).stem}_{lang}.pdf"
    # every output is checked before the analysis starts (a minute with the bootstrap)
    check_outputs({"--out": out, "--html": html, "--excel": excel, "--json": json},
                  inputs=[p for p in (questionnaire, data, transactions)
                          if isinstance(p, str | Path)])
    earlier = None
    if previous is not None:
        # read and checked before the analysis starts, like the outputs
        from satisfaction.waves import load_previous

        earlier = load_previous(previous, as_questionnaire(questionnaire).id)
    analysis = run(questionnaire, data, transactions, bootstrap=bootstrap, seed=seed,
                   n_jobs=n_jobs, progress=progress, sheet=sheet, header_row=header_row)
    waves = None
    if earlier is not None and analysis.indices is not None:
        from satisfaction.pipeline import AnalysisWarning
        from satisfaction.waves import compare_waves

        waves = compare_waves(analysis.indices, earlier, level=analysis.indices.level,
                              source=str(previous))
        analysis.warnings += [AnalysisWarning("waves", d) for d in waves.warnings]
    files = write_report(analysis, out, lang=lang, html=html, json=json, excel=excel,
                         waves=waves)
    return analysis, files


#: The default output folder of :func:`demo`: ``reports/`` under the working directory.
REPORTS = Path("reports")


def demo(out: str | Path | None = None, *, seed: int = 20261125, n_respondents: int = 2000,
         n_customers: int = 100_000, lang: str = "en", bootstrap: int = 1000,
         html: bool = False, excel: bool = False, json: bool = True,
         progress: Callable[[str], None] | None = None,
         n_jobs: int | None = None) -> dict[str, Any]:
    """Simulate the demo data, run every analysis stage and write the report
    (``satisfaction demo``).

    Writes under ``out`` (default ``reports/``): the simulated data
    (``demo/demo_responses.csv``, ``demo/demo_transactions.csv``), the PDF
    ``demo_<lang>.pdf`` and, by option, the same report as HTML, every table as
    an Excel workbook and all results as JSON (``demo_results.json``).

    Returns
    -------
    dict
        ``questionnaire``, ``responses``, ``transactions`` (paths), ``analysis``,
        ``files`` (:class:`~satisfaction.report.render.ReportFiles`) and
        ``seconds`` (by step: ``simulate``, ``analysis``, ``report``).
    """
    from satisfaction.io import check_output, write_with
    from satisfaction.pipeline import run
    from satisfaction.report.render import write_report
    from satisfaction.simulate import simulate_demo

    if lang not in ("en", "zh"):
        raise UsageError("expected 'en' or 'zh'", column="--lang", value=lang)
    if bootstrap < 0:
        raise UsageError("--bootstrap must be 0 or more", column="--bootstrap", value=bootstrap)
    folder = Path(out) if out is not None else REPORTS
    check_output(folder, option="--out", folder=True)
    seconds: dict[str, float] = {}
    start = time.perf_counter()
    data = simulate_demo(n_respondents=n_respondents, n_customers=n_customers, seed=seed,
                         lang=lang)
    responses = folder / "demo" / "demo_responses.csv"
    transactions = folder / "demo" / "demo_transactions.csv"
    write_with(responses, lambda p: data.responses.to_csv(p, index=False))
    write_with(transactions, lambda p: data.transactions.to_csv(p, index=False,
                                                                date_format="%Y-%m-%d"))
    seconds["simulate"] = time.perf_counter() - start
    start = time.perf_counter()
    analysis = run(data.questionnaire, responses, transactions, bootstrap=bootstrap,
                   seed=seed, n_jobs=n_jobs, progress=progress)
    seconds["analysis"] = time.perf_counter() - start
    start = time.perf_counter()
    stem = folder / f"demo_{lang}"
    files = write_report(analysis, stem.with_suffix(".pdf"), lang=lang,
                         html=stem.with_suffix(".html") if html else None,
                         excel=stem.with_suffix(".xlsx") if excel else None,
                         json=folder / "demo_results.json" if json else None)
    seconds["report"] = time.perf_counter() - start
    return {"questionnaire": data.questionnaire_path, "responses": responses,
            "transactions": transactions, "analysis": analysis, "files": files,
            "seconds": seconds}
