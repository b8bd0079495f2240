"""Translating the analysis modules' English messages for the report.

The analysis stages (``sem_ml``, ``model``, ``reliability``, ``efa``,
``responses``, ``value/*``, the pipeline itself) write their warnings and the
data-quality problems as English sentences; :class:`~satisfaction.pipeline.
AnalysisWarning` holds only a stage and that sentence. Rather than touch every
analysis module (and the English wording other tests match), the report keeps
this explicit table: each entry gives a stable *code*, a regular expression over
the English sentence whose named groups are the parameters, and the catalog key
``warnings.<code>`` (or ``problems.<code>``) that words it in the report
language. The English catalog entry reproduces the English sentence exactly
from the same parameters (``tests/test_report.py`` checks the round trip), so a
pattern cannot silently drop part of a message.

A message that no pattern matches is shown as written, and
:func:`untranslated` lists it: the report tests fail when the demo or the bank
data raise a warning this table does not know (add a pattern and two catalog
entries when a module gains a new warning).

Parameters named in :attr:`Pattern.constructs` are construct ids and are shown
by the construct's name; :attr:`Pattern.labels` maps a parameter to a catalog
section of labels (e.g. a transaction exclusion reason).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from satisfaction.report.messages import Messages

_NUM = r"-?[\d.]+(?:e[-+]?\d+)?"
_ID = r"[^\s,;:()']+"


@dataclass(frozen=True)
class Pattern:
    """One known English message: its code, its regex and how to show its parameters."""

    code: str
    regex: re.Pattern[str]
    constructs: tuple[str, ...] = ()
    labels: dict[str, str] = field(default_factory=dict)
    #: a parameter holding a nested message (translated recursively)
    nested: str | None = None


def _p(code: str, regex: str, constructs: tuple[str, ...] = (),
       labels: dict[str, str] | None = None, nested: str | None = None) -> Pattern:
    return Pattern(code, re.compile(f"^{regex}$"), constructs, labels or {}, nested)


#: Warnings of the analysis stages (Analysis.warnings), by module.
WARNINGS: tuple[Pattern, ...] = (
    # reliability.py: the CFA's own warnings carry a "CFA: " prefix
    _p("cfa", r"CFA: (?P<message>.+)", nested="message"),
    _p("alpha_low", rf"(?P<construct>{_ID}): Cronbach's alpha (?P<value>{_NUM}) is below "
                    rf"(?P<threshold>{_NUM})", ("construct",)),
    _p("cr_low", rf"(?P<construct>{_ID}): composite reliability (?P<value>{_NUM}) is below "
                 rf"(?P<threshold>{_NUM})", ("construct",)),
    _p("ave_low", rf"(?P<construct>{_ID}): average variance extracted (?P<value>{_NUM}) is "
                  rf"below (?P<threshold>{_NUM})", ("construct",)),
    _p("loading_low", rf"(?P<construct>{_ID}): item (?P<item>{_ID}) has a standardized "
                      rf"loading of (?P<value>{_NUM}), below (?P<threshold>{_NUM})",
       ("construct",)),
    _p("htmt_high", rf"discriminant validity: HTMT of (?P<a>{_ID}) and (?P<b>{_ID}) is "
                    rf"(?P<value>{_NUM}) \(above (?P<threshold>{_NUM})\)", ("a", "b")),
    _p("fornell_larcker", rf"discriminant validity \(Fornell-Larcker\): (?P<a>{_ID}) and "
                          rf"(?P<b>{_ID}) correlate at (?P<r>{_NUM}), not below the square "
                          r"root of the AVE of (?P<which>.+)", ("a", "b")),
    # model.py / sem_ml.py
    _p("listwise", r"(?P<n>\d+) respondents with missing values were excluded "
                   r"\(listwise deletion\)"),
    _p("negative_variance", rf"negative variance: (?P<a>{_ID}) ~~ (?P<b>{_ID}) = "
                            rf"(?P<value>{_NUM})", ("a", "b")),
    _p("improper_path", rf"improper standardized path \|std\.all\| > 1: (?P<lhs>{_ID}) "
                        rf"(?P<op>=~|~) (?P<rhs>{_ID}) std\.all = (?P<value>{_NUM})",
       ("lhs", "rhs")),
    _p("psi_not_pd", r"the covariance matrix of the latent variables \(psi\) is not "
                     r"positive definite"),
    _p("bootstrap_failed", r"bootstrap: (?P<failed>\d+) of (?P<draws>\d+) draws did not "
                           r"converge and were left out of the intervals"),
    _p("not_converged", r"the estimator did not converge after (?P<n>\d+) iterations; "
                        r"estimates are not trustworthy"),
    _p("se_singular_identified", r"standard errors could not be computed \(singular "
                                 r"information matrix: the model may not be identified\)"),
    _p("se_singular", r"standard errors could not be computed \(singular information "
                      r"matrix\)"),
    _p("fiml_not_converged", r"the FIML estimator did not converge; estimates are not "
                             r"trustworthy"),
    _p("equal_paths_not_converged", r"the model with equal structural paths did not "
                                    r"converge"),
    # efa.py
    _p("efa_heywood", r"Heywood case: communality of 1 or more for (?P<items>.+); extract "
                      r"fewer factors or use minres"),
    _p("efa_kmo_low", rf"KMO (?P<kmo>{_NUM}) is below 0\.60: the items share too little "
                      r"variance for factor analysis \(Kaiser 1974\)"),
    _p("efa_item_kmo_low", rf"item (?P<item>{_ID}): KMO (?P<kmo>{_NUM}) is below 0\.50"),
    _p("efa_sphericity", rf"Bartlett's test does not reject sphericity \(p = (?P<p>{_NUM})\)"),
    _p("efa_cross_loading", rf"item (?P<item>{_ID}) cross-loads: (?P<loading>{_NUM}) on "
                            rf"(?P<primary>{_ID}), (?P<secondary_loading>{_NUM}) on "
                            rf"(?P<secondary>{_ID})"),
    _p("efa_no_factor", rf"item (?P<item>{_ID}) loads on no factor \(largest loading "
                        rf"(?P<loading>{_NUM}) < (?P<threshold>{_NUM})\)"),
    # responses.py
    _p("group_column_missing", r"group column '(?P<column>[^']*)' is not in the file; "
                               r"comparisons by '(?P<group>[^']*)' are skipped"),
    _p("customer_id_missing", r"customer-id column '(?P<column>[^']*)' is not in the file; "
                              r"the survey cannot be linked to transactions"),
    _p("item_constant", r"item '(?P<item>[^']*)' has the same answer from every analysed "
                        r"respondent; it carries no information"),
    # pipeline.py
    _p("stage_unavailable", rf"stage not available: module (?P<module>{_ID}) is not installed"),
    _p("transactions_excluded", r"(?P<n>\d+) transactions excluded: (?P<reason>.+)",
       labels={"reason": "tx_reasons"}),
    _p("no_customer_id", r"the responses carry no customer id: survey and customers were "
                         r"not linked"),
    # value/pipeline.py, value/link.py
    _p("clv_not_converged", r"(?P<model>.+) did not converge to interior estimates \(too "
                            r"few or too regular customers\?\): its predictions are not "
                            r"reliable"),
    _p("clv_margin", r"clv is margin-adjusted with each customer's margin ratio"),
    _p("link_column_missing", r"customer table has no column '(?P<column>[^']*)': skipped"),
    # questionnaire.py (a SchemaWarning caught while a stage ran)
    _p("few_items", r"(?P<where>.+): construct '(?P<construct>[^']+)' has only (?P<n>\d+) "
                    r"(?P<kind>items|child constructs); three or more are recommended",
       ("construct",)),
)

#: Messages of the data-quality log (responses.py), one per screening rule.
PROBLEMS: tuple[Pattern, ...] = (
    _p("missing_id", r"the respondent id is empty"),
    _p("not_a_number", rf"expected (?P<kind>a whole number|a number) from (?P<min>{_NUM}) to "
                       rf"(?P<max>{_NUM}) or an empty cell"),
    _p("out_of_range", rf"expected (?P<kind>a whole number|a number) from (?P<min>{_NUM}) to "
                       rf"(?P<max>{_NUM})"),
    _p("all_items_empty", r"no item was answered"),
    _p("too_much_missing", r"(?P<empty>\d+) of (?P<items>\d+) items empty; at most "
                           r"(?P<max>\d+)% may be"),
    _p("failed_attention_check", rf"attention check expects (?P<expect>{_NUM})"),
    _p("straight_lining", rf"the same answer \((?P<answer>{_NUM})\) to all (?P<n>\d+) "
                          r"answered items"),
)

#: Words inside parameters that are themselves English (e.g. "a whole number").
_WORDS = {"kind": {"a whole number": "integer", "a number": "number",
                   "items": "items", "child constructs": "children"}}


def match(message: str, patterns: tuple[Pattern, ...] = WARNINGS
          ) -> tuple[Pattern, dict[str, str]] | None:
    """The first pattern matching ``message`` and its parameters, or ``None``."""
    for pattern in patterns:
        m = pattern.regex.match(message)
        if m:
            return pattern, {k: v for k, v in m.groupdict().items() if v is not None}
    return None


def untranslated(messages: list[str], patterns: tuple[Pattern, ...] = WARNINGS) -> list[str]:
    """The messages no pattern knows (nested messages included)."""
    out = []
    for message in messages:
        found = match(message, patterns)
        if found is None:
            out.append(message)
        elif found[0].nested:
            out += untranslated([found[1][found[0].nested]], patterns)
    return out


def translate(message: str, m: Messages, section: str = "warnings",
              name: Callable[[str], str] = str,
              patterns: tuple[Pattern, ...] | None = None) -> str:
    """``message`` in the catalog's language (as written when no pattern matches).

    Parameters
    ----------
    message : str
        The English sentence of an analysis module.
    m : Messages
        The report language's catalog; the text is ``<section>.<code>``.
    section : {"warnings", "problems"}
    name : callable
        Construct id → reader-facing name.
    """
    patterns = patterns if patterns is not None else (
        WARNINGS if section == "warnings" else PROBLEMS)
    found = match(message, patterns)
    if found is None:
        return message
    pattern, params = found
    values: dict[str, Any] = dict(params)
    for key in pattern.constructs:
        if key in values:
            values[key] = name(values[key])
    for key, labels in pattern.labels.items():
        if key in values:
            full = f"{labels}.{values[key].replace(' ', '_')}"
            values[key] = m.text(full) if m.has(full) else values[key]
    for key, words in _WORDS.items():
        if key in values and values[key] in words:
            values[key] = m.text(f"{section}.words.{words[values[key]]}")
    if pattern.code == "fornell_larcker":
        parts = re.findall(rf"({_ID}) \(({_NUM})\)", params["which"])
        sep = m.text(f"{section}.words.and")
        values["which"] = sep.join(m.text(f"{section}.words.sqrt_ave", construct=name(c), value=v)
                                   for c, v in parts) or params["which"]
    if pattern.nested:
        values[pattern.nested] = translate(params[pattern.nested], m, section, name, patterns)
    return m.text(f"{section}.{pattern.code}", **values)
