"""Customer value: transactions, RFM, ABC, lifecycle, CLV and the survey link.

The modules, in the order the data flow through them:

* :mod:`~satisfaction.value.transactions` — load and validate transactions (DuckDB);
* :mod:`~satisfaction.value.customers` — the one per-customer aggregation query;
* :mod:`~satisfaction.value.rfm`, :mod:`~satisfaction.value.abc`,
  :mod:`~satisfaction.value.lifecycle` — scores, classes and stages;
* :mod:`~satisfaction.value.clv` — BG/NBD, Pareto/NBD, Gamma-Gamma, the retention
  formula, the value decomposition and the holdout check;
* :mod:`~satisfaction.value.pipeline` — everything above in one call;
* :mod:`~satisfaction.value.link` — respondents ⋈ customers: satisfaction by segment,
  its correlation with behaviour and the mediation through loyalty.
"""

from satisfaction.value.abc import ABCResult, abc_classes, gini
from satisfaction.value.clv import (
    BGNBDFit,
    GammaGammaFit,
    ParetoNBDFit,
    decompose_value,
    fit_bgnbd,
    fit_gamma_gamma,
    fit_pareto_nbd,
    holdout_check,
    retention_clv,
)
from satisfaction.value.customers import CustomerTable, customer_table
from satisfaction.value.lifecycle import LifecycleResult, lifecycle_stages
from satisfaction.value.link import (
    MediationResult,
    SurveyLink,
    correlation,
    link_survey,
    mediation,
)
from satisfaction.value.pipeline import ValueResult, value_analysis
from satisfaction.value.rfm import RFMResult, SegmentRule, rfm
from satisfaction.value.transactions import TransactionColumns, Transactions, load_transactions

__all__ = [
    "ABCResult", "BGNBDFit", "CustomerTable", "GammaGammaFit", "LifecycleResult",
    "MediationResult", "ParetoNBDFit", "RFMResult", "SegmentRule", "SurveyLink",
    "TransactionColumns", "Transactions", "ValueResult", "abc_classes", "correlation",
    "customer_table", "decompose_value", "fit_bgnbd", "fit_gamma_gamma", "fit_pareto_nbd",
    "gini", "holdout_check", "lifecycle_stages", "link_survey", "load_transactions",
    "mediation", "retention_clv", "rfm", "value_analysis",
]
