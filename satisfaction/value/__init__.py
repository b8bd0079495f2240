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

from __future__ import annotations

import importlib
from typing import Any

#: Where each public name is defined. The submodules are imported when one of their
#: names is first used (PEP 562 module ``__getattr__``), not with the package: the
#: option checks (:mod:`~satisfaction.value.checks`) and the loader must not pay for
#: pingouin (the survey link) or SciPy (the models) — a usage error answers at once.
_DEFINED_IN: dict[str, str] = {
    "ABCResult": "abc", "abc_classes": "abc", "gini": "abc",
    "BGNBDFit": "clv", "GammaGammaFit": "clv", "ParetoNBDFit": "clv",
    "decompose_value": "clv", "fit_bgnbd": "clv", "fit_gamma_gamma": "clv",
    "fit_pareto_nbd": "clv", "holdout_check": "clv", "retention_clv": "clv",
    "CustomerTable": "customers", "customer_table": "customers",
    "LifecycleResult": "lifecycle", "lifecycle_stages": "lifecycle",
    "MediationResult": "link", "SurveyLink": "link", "correlation": "link",
    "link_survey": "link", "mediation": "link",
    "ValueResult": "pipeline", "value_analysis": "pipeline",
    "RFMResult": "rfm", "SegmentRule": "rfm",
    "TransactionColumns": "transactions", "Transactions": "transactions",
    "load_transactions": "transactions",
}


def __getattr__(name: str) -> Any:
    """A public name of the package, imported from its module on first use."""
    module = _DEFINED_IN.get(name)
    if module is None:
        raise AttributeError(f"module 'satisfaction.value' has no attribute {name!r}")
    return getattr(importlib.import_module(f"satisfaction.value.{module}"), name)


__all__ = [
    "ABCResult", "BGNBDFit", "CustomerTable", "GammaGammaFit", "LifecycleResult",
    "MediationResult", "ParetoNBDFit", "RFMResult", "SegmentRule", "SurveyLink",
    "TransactionColumns", "Transactions", "ValueResult", "abc_classes", "correlation",
    "customer_table", "decompose_value", "fit_bgnbd", "fit_gamma_gamma", "fit_pareto_nbd",
    "gini", "holdout_check", "lifecycle_stages", "link_survey", "load_transactions",
    "mediation", "retention_clv", "value_analysis",
]
