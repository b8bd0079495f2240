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
every result has ``to_dict()`` giving exactly the command's ``--json``. The
command line (:mod:`satisfaction.cli`) is a layer over these functions.

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

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from satisfaction.compare import CompareResult
    from satisfaction.efa import EFAResult
    from satisfaction.invariance import InvarianceResult
    from satisfaction.model import SEMResult
    from satisfaction.questionnaire import Questionnaire
    from satisfaction.reliability import ReliabilityResult
    from satisfaction.responses import Responses
    from satisfaction.value.pipeline import ValueResult
    from satisfaction.value.transactions import TransactionColumns

__all__ = ["clv", "compare", "efa", "fit", "invariance", "reliability", "report", "rfm",
           "validate"]


def _questionnaire(source: Questionnaire | str | Path) -> Questionnaire:
    """A :class:`Questionnaire` from itself, a YAML path or a shipped name."""
    from satisfaction.questionnaire import Questionnaire, load_questionnaire

    return source if isinstance(source, Questionnaire) else load_questionnaire(source)


def validate(questionnaire: Questionnaire | str | Path,
             data: pd.DataFrame | str | Path) -> Responses:
    """Read and screen responses against a questionnaire (``satisfaction validate``).

    Returns :class:`~satisfaction.responses.Responses`: ``data`` (the clean
    answers, reverse-coded items recoded) and ``log`` (every excluded respondent
    and value under a named reason; the counts add up).
    """
    from satisfaction.responses import load_responses

    return load_responses(_questionnaire(questionnaire), data)


def reliability(questionnaire: Questionnaire | str | Path, data: pd.DataFrame | str | Path,
                *, level: float = 0.95,
                htmt_thresholds: tuple[float, float] | None = None) -> ReliabilityResult:
    """Item statistics, α, ω, CR, AVE, Fornell-Larcker and HTMT (``satisfaction reliability``).

    See :func:`satisfaction.reliability.reliability` (tested against psych and
    semTools).
    """
    from satisfaction.reliability import HTMT_THRESHOLDS
    from satisfaction.reliability import reliability as run

    q = _questionnaire(questionnaire)
    return run(q, validate(q, data).data, level=level,
               htmt_thresholds=htmt_thresholds or HTMT_THRESHOLDS)


def efa(questionnaire: Questionnaire | str | Path, data: pd.DataFrame | str | Path, *,
        n_factors: int | None = None, method: str = "minres", rotation: str = "oblimin",
        seed: int = 0) -> EFAResult:
    """Exploratory factor analysis of the questionnaire's items (``satisfaction efa``).

    See :func:`satisfaction.efa.efa` (tested against psych::fa and
    factor-analyzer); ``n_factors=None`` takes the number from parallel analysis.
    """
    from satisfaction.efa import efa as run

    q = _questionnaire(questionnaire)
    items = [i.id for i in q.items]
    return run(validate(q, data).data[items], n_factors=n_factors,
               method=method, rotation=rotation, seed=seed)  # type: ignore[arg-type]


def _model_data(model: Questionnaire | str | Path,
                data: pd.DataFrame | str | Path) -> tuple[Any, pd.DataFrame]:
    """The model (questionnaire or lavaan syntax) and its data, screened when a
    questionnaire defines them."""
    from satisfaction.questionnaire import Questionnaire, shipped_questionnaire

    syntax_text = isinstance(model, str) and "\n" in model
    if isinstance(model, Questionnaire) or (
            not syntax_text and shipped_questionnaire(model).suffix.lower() in (".yaml", ".yml")):
        q = _questionnaire(model)
        return q, validate(q, data).data
    if isinstance(data, str | Path):
        from satisfaction.responses import read_table

        frame, _ = read_table(data)
        return model, frame
    return model, data


def fit(model: Questionnaire | str | Path, data: pd.DataFrame | str | Path,
        **options: Any) -> SEMResult | Any:
    """Fit a structural equation model (``satisfaction fit``).

    ``model`` is a questionnaire or lavaan syntax (text or a ``.lav``/``.txt``
    file). Options are those of :func:`satisfaction.model.fit` (``missing``,
    ``estimator`` ``"ml" | "mlr" | "mlm" | "wlsmv"``, ``group``, ``group_equal``,
    ``bootstrap``, ``ci``, ``ordered``, ``sampling_weights`` (respondent weights as
    lavaan's ``sampling.weights``, :mod:`satisfaction.sem_weights`) ...; tested
    against lavaan), or with
    ``estimator="pls"``/``"plsc"`` those of :func:`satisfaction.pls.pls`
    (tested against seminr and SmartPLS).
    """
    estimator = options.get("estimator", "ml")
    m, frame = _model_data(model, data)
    if estimator in ("pls", "plsc"):
        from satisfaction.pls import pls

        options = {k: v for k, v in options.items() if k != "estimator"}
        return pls(m, frame, consistent=estimator == "plsc", **options)
    from satisfaction.model import fit as run

    return run(m, frame, **options)


def invariance(model: Questionnaire | str | Path, data: pd.DataFrame | str | Path, *,
               group: str, group_partial: Sequence[str] = (), missing: str = "listwise",
               estimator: str = "ml") -> InvarianceResult:
    """Configural, metric, scalar and strict invariance across ``group``
    (``satisfaction invariance``; :func:`satisfaction.invariance.invariance`,
    tested against lavaan)."""
    from satisfaction.invariance import invariance as run

    m, frame = _model_data(model, data)
    return run(m, frame, group, group_partial=group_partial, missing=missing,
               estimator=estimator)


def compare(questionnaire: Questionnaire | str | Path, data: pd.DataFrame | str | Path, *,
            by: str | list[str] | None = None, adjust: str = "holm", alpha: float = 0.05,
            method: str = "pearson") -> CompareResult:
    """Group comparisons of the construct indices (``satisfaction compare``;
    :func:`satisfaction.compare.compare`, tested against R's stats)."""
    from satisfaction.compare import compare as run

    q = _questionnaire(questionnaire)
    return run(q, validate(q, data).data, by=by, adjust=adjust, alpha=alpha, method=method)


def rfm(transactions: str | Path, columns: TransactionColumns | None = None,
        **options: Any) -> ValueResult:
    """RFM scores and segments, ABC classes, lifecycle stages (``satisfaction rfm``).

    ``transactions`` is the file; ``columns`` names its customer, date and
    amount columns (:class:`~satisfaction.value.transactions.TransactionColumns`);
    options as ``satisfaction rfm`` (``period_end``, ``returns``,
    ``keep_duplicates``, ``today``, ``date_format``).
    """
    from satisfaction.commands.value import rfm as run

    return run(transactions, columns, **options)


def clv(transactions: str | Path, columns: TransactionColumns | None = None,
        **options: Any) -> ValueResult:
    """Customer lifetime value with BG/NBD, Pareto/NBD and Gamma-Gamma (``satisfaction clv``).

    Options as ``satisfaction clv`` (``period_end``, ``time_unit``, ``horizon``,
    ``discount_rate``, ``models`` ...); tested against the published CDNOW
    estimates and lifetimes.
    """
    from satisfaction.commands.value import clv as run

    return run(transactions, columns, **options)


def report(questionnaire: Questionnaire | str | Path, data: str | Path, *,
           transactions: str | Path | None = None, **options: Any) -> tuple[Any, Any]:
    """The whole analysis and the PDF report (``satisfaction report``).

    Options as :func:`satisfaction.commands.report.report` (``lang``, ``out``,
    ``html``, ``excel``, ``json``, ``bootstrap``, ``seed``, ``n_jobs``).
    Returns ``(Analysis, ReportFiles)``.
    """
    from satisfaction.commands.report import report as run

    return run(questionnaire, data, transactions, **options)  # type: ignore[arg-type]
