"""The survey ⋈ customers link: do satisfaction and loyalty show up in behaviour?

Respondents are joined to customers by the questionnaire's customer id. Every
respondent and customer is accounted for:

``respondents``                     rows of the score table
``respondents_missing_customer_id`` no customer id given
``respondents_unmatched``           a customer id not in the customer table
``respondents_repeat_customer``     a second (third, …) response of one customer;
                                    only the first response (table order) is linked
``matched``                         respondents linked to a customer
``customers``                       customers in the customer table
``customers_without_response``      customers no respondent is linked to

so that respondents = missing + unmatched + repeat + matched and customers =
matched + without response.

Then, for the linked respondents:

* construct indices by RFM segment, ABC class and lifecycle stage (n, mean, sd per
  group), with Welch's ANOVA and Kruskal-Wallis (Welch's t and Mann-Whitney for
  two groups), computed by pingouin (tested against R's ``oneway.test`` and
  ``kruskal.test``) and Holm-adjusted within each family (means, ranks) by
  :func:`satisfaction.compare.adjust_pvalues`;
* ordinary least squares of each behaviour (repeat purchases, CLV) on the
  construct indices, with coefficients, standard errors, t, p and 95 % intervals
  (statsmodels; tested against R's ``lm`` and ``confint``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pingouin as pg
import statsmodels.api as sm

from satisfaction.errors import InputError


def _plain(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, float | np.floating):
        return float(value) if np.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: _plain(v) for k, v in row.items()} for row in frame.to_dict("records")]


@dataclass
class SurveyLink:
    """The linked table, the counts, the group comparisons and the regressions.

    Attributes
    ----------
    data : pandas.DataFrame
        One row per linked respondent (index respondent id): the construct
        indices, customer_id and the customer's segment columns and outcomes.
    counts : dict[str, int]
        See the module docstring; they add up.
    groups : pandas.DataFrame
        by, group, construct, n, mean, sd.
    tests : pandas.DataFrame
        by, construct, test, statistic, df, df2, pvalue, p_adjusted.
    regressions : pandas.DataFrame
        outcome, term, coef, se, t, pvalue, ci_lower, ci_upper, n, r2.
    """

    data: pd.DataFrame
    counts: dict[str, int]
    groups: pd.DataFrame
    tests: pd.DataFrame
    regressions: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"counts": dict(self.counts), "groups": _records(self.groups),
                "tests": _records(self.tests), "regressions": _records(self.regressions),
                "notes": list(self.notes)}


def _group_tests(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Welch/rank tests of y across g (≥ 2 groups with ≥ 2 observations each)."""
    levels = [k for k, n in frame["g"].value_counts().items() if n >= 2]
    frame = frame[frame["g"].isin(levels)]
    if len(levels) < 2:
        return []
    if len(levels) == 2:
        a, b = sorted(levels)
        x = frame.loc[frame["g"] == a, "y"].to_numpy(float)
        y = frame.loc[frame["g"] == b, "y"].to_numpy(float)
        tt = pg.ttest(x, y, correction=True)
        mw = pg.mwu(x, y, alternative="two-sided")
        return [
            {"test": "welch_t", "statistic": float(tt["T"].iloc[0]),
             "df": float(tt["dof"].iloc[0]), "df2": None,
             "pvalue": float(tt.filter(regex="^p.val").iloc[0, 0]), "family": "means"},
            {"test": "mann_whitney", "statistic": float(mw.filter(regex="^U").iloc[0, 0]),
             "df": None, "df2": None,
             "pvalue": float(mw.filter(regex="^p.val").iloc[0, 0]), "family": "ranks"},
        ]
    wa = pg.welch_anova(data=frame, dv="y", between="g")
    kw = pg.kruskal(data=frame, dv="y", between="g")
    return [
        {"test": "welch_anova", "statistic": float(wa["F"].iloc[0]),
         "df": float(wa["ddof1"].iloc[0]), "df2": float(wa["ddof2"].iloc[0]),
         "pvalue": float(wa.filter(regex="^p.unc").iloc[0, 0]), "family": "means"},
        {"test": "kruskal_wallis", "statistic": float(kw["H"].iloc[0]),
         "df": float(kw["ddof1"].iloc[0]), "df2": None,
         "pvalue": float(kw.filter(regex="^p.unc").iloc[0, 0]), "family": "ranks"},
    ]


def _ols(y: pd.Series, X: pd.DataFrame, outcome: str) -> list[dict[str, Any]]:
    ok = y.notna() & X.notna().all(axis=1)
    y, X = y[ok].astype(float), X[ok].astype(float)
    if len(y) <= X.shape[1] + 1:
        return []
    fit = sm.OLS(y.to_numpy(), sm.add_constant(X.to_numpy(), has_constant="add")).fit()
    ci = fit.conf_int(0.05)
    terms = ["(Intercept)", *X.columns]
    return [{"outcome": outcome, "term": t, "coef": float(fit.params[i]),
             "se": float(fit.bse[i]), "t": float(fit.tvalues[i]),
             "pvalue": float(fit.pvalues[i]), "ci_lower": float(ci[i, 0]),
             "ci_upper": float(ci[i, 1]), "n": int(fit.nobs), "r2": float(fit.rsquared)}
            for i, t in enumerate(terms)]


def link_survey(
    scores: pd.DataFrame,
    customers: pd.DataFrame,
    customer_column: str = "customer_id",
    constructs: list[str] | None = None,
    by: tuple[str, ...] = ("rfm_segment", "abc_class", "lifecycle_stage"),
    outcomes: tuple[str, ...] = ("repeat_purchases", "clv"),
    adjust: str = "holm",
) -> SurveyLink:
    """Join respondents to customers and test whether attitudes predict behaviour.

    Parameters
    ----------
    scores : pandas.DataFrame
        Per-respondent construct indices (0-100), index respondent id, with a
        customer-id column (e.g. from ``satisfaction.drivers.construct_scores``
        plus the responses' customer-id column).
    customers : pandas.DataFrame
        The value pipeline's per-customer table (index customer id), with the
        ``by`` and ``outcomes`` columns.
    customer_column : str
        The customer-id column of ``scores``.
    constructs : list of str, optional
        Construct columns to use (default: every numeric column of ``scores``
        other than the customer id).
    by, outcomes : tuple of str
        Segment columns and behaviour columns of ``customers`` (those absent are
        skipped and noted).
    adjust : str
        p-value adjustment within each family (see :func:`satisfaction.compare.adjust_pvalues`).
    """
    from satisfaction.compare import adjust_pvalues

    if customer_column not in scores.columns:
        raise InputError(f"the score table has no customer-id column {customer_column!r}",
                         column=customer_column)
    if constructs is None:
        constructs = [c for c in scores.columns if c != customer_column
                      and pd.api.types.is_numeric_dtype(scores[c])]
    if not constructs:
        raise InputError("the score table has no construct columns")
    notes: list[str] = []
    ids = scores[customer_column]
    missing = ids.isna() | (ids.astype(str).str.strip() == "")
    key = ids.where(~missing).astype(object).map(lambda v: None if v is None or (
        isinstance(v, float) and np.isnan(v)) else str(v).strip())
    cust_ids = pd.Index(customers.index.astype(str))
    known = key.isin(set(cust_ids)) & ~missing
    repeat = known & key.duplicated(keep="first")
    matched = known & ~repeat
    counts = {
        "respondents": len(scores),
        "respondents_missing_customer_id": int(missing.sum()),
        "respondents_unmatched": int((~missing & ~known).sum()),
        "respondents_repeat_customer": int(repeat.sum()),
        "matched": int(matched.sum()),
        "customers": len(customers),
        "customers_without_response": len(customers) - int(matched.sum()),
    }
    cust = customers.copy()
    cust.index = cust_ids
    if "repeat_purchases" in outcomes and "repeat_purchases" not in cust.columns \
            and "frequency" in cust.columns:
        cust["repeat_purchases"] = cust["frequency"] - 1  # RFM frequency counts the first
    linked = scores.loc[matched, constructs].copy()
    linked["customer_id"] = key[matched].to_numpy()
    extra = [c for c in (*by, *outcomes) if c in cust.columns]
    for c in (*by, *outcomes):
        if c not in cust.columns:
            notes.append(f"customer table has no column {c!r}: skipped")
    linked = linked.join(cust[extra], on="customer_id")

    group_rows: list[dict[str, Any]] = []
    test_rows: list[dict[str, Any]] = []
    for b in (c for c in by if c in cust.columns):
        for construct in constructs:
            frame = pd.DataFrame({"g": linked[b].astype(str), "y": linked[construct]}).dropna()
            for g, part in frame.groupby("g", sort=True):
                group_rows.append({"by": b, "group": g, "construct": construct,
                                   "n": len(part), "mean": float(part["y"].mean()),
                                   "sd": float(part["y"].std(ddof=1)) if len(part) > 1
                                   else None})
            for row in _group_tests(frame):
                test_rows.append({"by": b, "construct": construct, **row})
    tests = pd.DataFrame(test_rows, columns=["by", "construct", "test", "statistic", "df",
                                             "df2", "pvalue", "family"])
    tests["p_adjusted"] = np.nan
    for _, idx in tests.groupby("family").groups.items():
        tests.loc[idx, "p_adjusted"] = adjust_pvalues(tests.loc[idx, "pvalue"].to_numpy(),
                                                      adjust)
    reg_rows: list[dict[str, Any]] = []
    for outcome in (o for o in outcomes if o in cust.columns):
        reg_rows += _ols(linked[outcome], linked[constructs], outcome)
    regressions = pd.DataFrame(reg_rows, columns=["outcome", "term", "coef", "se", "t",
                                                  "pvalue", "ci_lower", "ci_upper", "n", "r2"])
    return SurveyLink(data=linked, counts=counts,
                      groups=pd.DataFrame(group_rows,
                                          columns=["by", "group", "construct", "n", "mean",
                                                   "sd"]),
                      tests=tests, regressions=regressions, notes=notes)
