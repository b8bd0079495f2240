"""The reader-facing context of the report, assembled from an :class:`Analysis`.

This module computes nothing statistical: it selects numbers from the stages'
result objects, formats them (three decimals for coefficients and fit indices,
one for 0-100 indices), attaches the translated labels from the message
catalog, applies the conventional thresholds that turn a number into a verdict
(each threshold is cited where it is used), and draws the charts from the
selected numbers. Every table is kept twice: as formatted text for the page
and as plain values for the Excel workbook.

Missing values are shown as an en dash, never as "nan" or "None".
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from satisfaction.report import charts
from satisfaction.report.cells import (  # the formatting, shared with the section modules
    Cell,
    Table,
    _missing,
    fmt,
    fmt_p,
    fmt_p_cell,
    fmt_pct,
    mean_interval,
    num,
    plain,
)
from satisfaction.report.messages import Messages, load_messages
from satisfaction.responses import problem_text
from satisfaction.value.core import MODEL_NAMES

#: Fit thresholds of Hu & Bentler (1999): (index, direction, strict, acceptable).
FIT_THRESHOLDS: tuple[tuple[str, str, float, float], ...] = (
    ("cfi", ">=", 0.95, 0.90),
    ("tli", ">=", 0.95, 0.90),
    ("rmsea", "<=", 0.06, 0.08),
    ("srmr", "<=", 0.08, 0.10),
)
#: Reliability and convergent validity thresholds (Hair et al. 2019; Fornell & Larcker 1981).
RELIABILITY_THRESHOLDS: dict[str, float] = {"alpha": 0.70, "omega": 0.70, "cr": 0.70,
                                            "ave": 0.50}
#: HTMT threshold for discriminant validity (Henseler, Ringle & Sarstedt 2015).
HTMT_THRESHOLD = 0.85
#: Colour of each purchase stage in the index charts.
STAGE_COLOURS: dict[str, str] = {"pre_sale": charts.SKY, "in_sale": charts.BLUE,
                                 "post_sale": charts.GREEN, "outcome": charts.ORANGE,
                                 "other": charts.GREY}
#: Problems of the data-quality log shown in the appendix (all of them are in the JSON).
MAX_LOG_ROWS = 60


def stage_title_key(questionnaire: Any, stages: pd.DataFrame) -> str:
    """The catalog key of the stage index title, saying what a stage's index is for
    this questionnaire (:func:`satisfaction.drivers.indices`): a stage whose one
    top-level construct is a higher-order construct (CRAM) has its second-order factor's
    index, any other stage the mean of its top-level constructs' indices (ECSI's bank:
    image and expectations are both pre-sale). ``drivers.stages`` when every stage is a
    factor, ``drivers.stages_mean`` when none is, ``drivers.stages_mixed`` otherwise.

    Parameters
    ----------
    questionnaire : Questionnaire
    stages : DataFrame
        ``IndexResult.stages`` (its ``constructs``: the stage's top-level constructs,
        comma-separated).
    """
    higher = {c.id for c in questionnaire.higher_order}
    factor = [len(tops) == 1 and tops[0] in higher
              for tops in (str(c).split(",") for c in stages["constructs"])]
    if all(factor):
        return "drivers.stages"
    return "drivers.stages_mixed" if any(factor) else "drivers.stages_mean"


# -- assembly ---------------------------------------------------------------------


class _Builder:
    def __init__(self, analysis: Any, lang: str) -> None:
        self.a = analysis
        self.q = analysis.questionnaire
        self.lang = lang
        self.m: Messages = load_messages(lang)
        self.tables: list[Table] = []
        self.recommendations_note: str | None = None

    def t(self, key: str, **values: Any) -> str:
        return self.m.text(key, **values)

    def table(self, key: str, title: str, columns: list[str], numeric: list[bool],
              note: str = "") -> Table:
        table = Table(key, title, columns, numeric=numeric, note=note)
        self.tables.append(table)
        return table

    def name(self, construct: str) -> str:
        """Reader-facing name of a construct (the id when it is not a construct)."""
        try:
            return self.q.construct(construct).name.get(self.lang)
        except KeyError:
            for o in self.q.observed:
                if o.id == construct:
                    return o.text.get(self.lang)
            for g in self.q.groups:  # a group variable named in a diagnostic
                if g.id == construct and g.name:
                    return g.name.get(self.lang)
            return str(construct)

    def stage(self, stage: Any) -> str:
        key = f"stages.{stage}"
        return self.t(key) if self.m.has(key) else str(stage)

    def label(self, section: str, key: Any) -> str:
        full = f"{section}.{key}"
        return self.t(full) if self.m.has(full) else str(key)

    # -- sections ---------------------------------------------------------------

    def quality(self) -> dict[str, Any]:
        log = self.a.responses.log
        flow = self.table("data_quality", self.t("quality.flow"),
                          [self.t("quality.flow"), self.t("quality.n")], [False, True])
        flow.add(self.t("quality.loaded"), (fmt(log.loaded), log.loaded))
        for reason, n in log.excluded.items():
            flow.add(self.t("quality.excluded", reason=self.label("reasons", reason)),
                     (fmt(int(n)), int(n)))
        flow.add(Cell(self.t("quality.analysed"), self.t("quality.analysed"), True),
                 Cell(fmt(log.analysed), log.analysed, True))
        data = self.a.responses.data
        profile = self.table("profile", self.t("quality.profile"),
                             [self.t("quality.group"), self.t("quality.category"),
                              self.t("quality.n"), self.t("quality.share")],
                             [False, False, True, True])
        for g in self.q.groups:
            if g.id not in data.columns or g.type != "categorical":
                continue
            counts = data[g.id].value_counts(dropna=False, sort=False)
            keys = sorted(counts.index, key=lambda v: (_missing(v), str(v)))
            gname = g.name.get(self.lang) if g.name else g.id
            for k in keys:
                n = int(counts[k])
                lab = self.t("quality.missing_value") if _missing(k) else g.label(k, self.lang)
                profile.add(gname, lab, (fmt(n), n), (fmt_pct(n / len(data)), n / len(data)))
        return {
            "intro": self.t("quality.intro", loaded=fmt(log.loaded),
                            excluded=fmt(int(sum(log.excluded.values()))),
                            analysed=fmt(log.analysed)),
            "flow": flow, "profile": profile if profile.rows else None,
            "missing": self._missing_items(log),
        }

    def _missing_items(self, log: Any) -> Table | None:
        """Items with missing answers among the analysed respondents, most missing first."""
        items = getattr(log, "item_missing", None)
        if items is None or not len(items):
            return None
        shown = items[items["missing"] > 0].sort_values("missing", ascending=False,
                                                        kind="stable")
        table = self.table("missing_items", self.t("quality.missing_items"),
                           [self.t("columns.item"), self.t("columns.construct"),
                            self.t("quality.n"), self.t("quality.set_missing"),
                            self.t("quality.share")], [False, False, True, True, True],
                           note=self.t("quality.missing_note"))
        full = self.table("missing_items_all", self.t("quality.missing_items"),
                          table.columns, table.numeric)
        full.pdf = False  # the workbook lists every item; the page the 12 most missing
        owner = self.q.construct_of_item()
        for k, (item, r) in enumerate(shown.iterrows()):
            cells = (str(item), self.name(owner.get(str(item), str(item))),
                     (fmt(int(r["missing"])), int(r["missing"])),
                     (fmt(int(r.get("set_missing", 0))), int(r.get("set_missing", 0))),
                     (fmt_pct(r["share"]), float(r["share"])))
            full.add(*cells)
            if k < 12:
                table.add(*cells)
        return table

    def measurement(self) -> dict[str, Any] | None:
        a = self.a
        if a.reliability is None and a.item_statistics is None:
            return None
        out: dict[str, Any] = dict.fromkeys(("items", "reliability", "htmt", "efa"))
        if a.item_statistics is not None:
            out["items"] = self._item_table(a.item_statistics)
        rel = a.reliability
        if rel is not None:
            out["reliability"] = self._reliability_table(rel.constructs)
            out["htmt"] = self._htmt_table(rel.htmt)
        if a.efa is not None:
            out["efa"] = self._efa(a.efa)
        self._weighted_measurement_note(out)
        return out

    def _weighted_measurement_note(self, out: dict[str, Any]) -> None:
        """With respondent weights (issue 17) the measurement tables say so, with the
        effective sample size (:func:`satisfaction.reliability.reliability` ``weights=``)."""
        rel, efa = self.a.reliability, self.a.efa
        note = next((w for w in getattr(rel, "warnings", [])
                     if w.code == "measurement_weighted"), None)
        if rel is not None and getattr(rel, "weighted", False) and note is not None:
            text = self.t("measurement.weighted_note",
                          effective_n=fmt(note.params["effective_n"], 1))
            for key in ("items", "reliability", "htmt"):
                if out.get(key) is not None:
                    out[key].note = f"{out[key].note} {text}".strip()
        if out.get("efa") is not None and getattr(efa, "weighted", False):
            text = self.t("measurement.efa_weighted_note", effective_n=fmt(efa.effective_n, 1))
            out["efa"]["text"] = f"{out['efa']['text']} {text}"

    def _item_table(self, stats: pd.DataFrame) -> Table:
        frame = stats.reset_index() if "item" not in stats.columns else stats
        wanted = [("item", "columns.item", 0), ("construct", "columns.construct", 0),
                  ("n", "columns.n", -1), ("mean", "columns.mean", 2), ("sd", "columns.sd", 2),
                  ("skew", "columns.skew", 2), ("kurtosis", "columns.kurtosis", 2),
                  ("item_total", "columns.item_rest", 3),
                  ("alpha_if_deleted", "columns.alpha_if_deleted", 3)]
        cols = []
        for col, key, digits in wanted:
            if col in frame.columns and key not in [k for _, k, _ in cols]:
                cols.append((col, key, digits))
        table = self.table("item_statistics", self.t("measurement.items"),
                           [self.t(k) for _, k, _ in cols], [d != 0 for _, _, d in cols],
                           note=self.t("measurement.items_note"))
        for _, r in frame.iterrows():
            cells = []
            for col, _key, digits in cols:
                v = r[col]
                if digits == 0:
                    cells.append(self.name(v) if col == "construct" else str(v))
                elif digits < 0:
                    cells.append((fmt(int(v)) if not _missing(v) else "–", v))
                else:
                    cells.append(num(v, digits))
            table.add(*cells)
        return table

    def _reliability_table(self, cons: pd.DataFrame) -> Table:
        frame = cons if "construct" in cons.columns else cons.rename_axis("construct") \
            .reset_index()
        table = self.table(
            "reliability", self.t("measurement.reliability"),
            [self.t("columns.construct"), self.t("columns.items"), self.t("columns.alpha"),
             self.t("columns.alpha_ci"), self.t("columns.omega"), self.t("columns.cr"),
             self.t("columns.ave"), self.t("measurement.verdict")],
            [False, True, True, True, True, True, True, False],
            note=self.t("measurement.reliability_note"))
        for _, r in frame.iterrows():
            weak = [k for k, th in RELIABILITY_THRESHOLDS.items()
                    if k in r and not _missing(r[k]) and float(r[k]) < th]
            lo, hi = r.get("alpha.ci.lower"), r.get("alpha.ci.upper")
            ci = f"[{fmt(lo)}, {fmt(hi)}]" if not _missing(lo) else "–"
            table.add(
                self.name(r["construct"]),
                (fmt(r.get("items")) if not _missing(r.get("items")) else "–", r.get("items")),
                *[num(r.get(k), 3, flag=k in weak) for k in ("alpha",)],
                Cell(ci, ci),
                *[num(r.get(k), 3, flag=k in weak) for k in ("omega", "cr", "ave")],
                Cell(self.t("measurement.verdict_weak") if weak
                     else self.t("measurement.verdict_ok"), "weak" if weak else "ok",
                     bool(weak)))
        return table

    def _htmt_table(self, htmt: pd.DataFrame | None) -> Table | None:
        """Lower triangle of the HTMT matrix. Rows carry a number and the construct's
        name, columns only the number (names side by side do not fit the page); the
        first row and the last column of a lower triangle are empty and left out."""
        if htmt is None or len(htmt) < 2:
            return None
        numbers = [str(i) for i in range(1, len(htmt.columns))]
        table = self.table("htmt", self.t("measurement.htmt"),
                           ["", *numbers], [False, *[True] * len(numbers)],
                           note=self.t("measurement.htmt_note"))
        for i, row_id in enumerate(htmt.index):
            if i == 0:
                continue
            cells: list[Cell | str] = [Cell(f"{i + 1} {self.name(row_id)}", str(row_id))]
            for j in range(len(numbers)):
                v = htmt.iloc[i, j]
                if j >= i:
                    cells.append(Cell("", None))
                else:
                    cells.append(num(v, 2, flag=not _missing(v) and float(v) >= HTMT_THRESHOLD))
            table.add(*cells)
        first = htmt.index[0]
        table.rows.insert(0, [Cell(f"1 {self.name(first)}", str(first)),
                              *[Cell("", None) for _ in numbers]])
        return table

    def _efa(self, efa: Any) -> dict[str, Any]:
        bart = efa.bartlett or {}
        rules = self._join(f"{self.label('measurement.rules', k)} {v}"
                           for k, v in efa.n_factors_rules.items() if not _missing(v))
        text = self.t("measurement.efa_text", kmo=fmt(efa.kmo), df=fmt(bart.get("df"), 0),
                      chisq=fmt(bart.get("chisq"), 1), p=fmt_p(bart.get("p")),
                      rules=rules or "–")
        eig = self.table("efa_eigenvalues", self.t("measurement.scree"),
                         [self.t("columns.factor"), self.t("columns.eigenvalue"),
                          self.t("columns.parallel")], [False, True, True])
        scree = efa.scree.head(max(efa.n_factors + 3, 6))
        for _, r in scree.iterrows():
            eig.add(str(int(r["number"])), num(r["eigenvalue"]),
                    num(r.get("parallel")))
        loadings = self.table(
            "efa_loadings", self.t("measurement.efa_loadings_title"),
            [self.t("columns.item"), *[str(c) for c in efa.loadings.columns],
             self.t("columns.communality")],
            [False, *[True] * len(efa.loadings.columns), True],
            note=self.t("measurement.efa_loadings", method=efa.method, rotation=efa.rotation))
        for item, r in efa.loadings.iterrows():
            cells: list[Cell | str] = [str(item)]
            for v in r:
                cells.append(Cell("" if abs(v) < 0.30 else fmt(v, 2), plain(v)))
            cells.append(num(efa.communalities.get(item), 2))
            loadings.add(*cells)
        return {"text": text, "eigenvalues": eig, "loadings": loadings}

    def model(self) -> dict[str, Any] | None:
        if getattr(self.a, "pls", None) is not None:  # PLS is the estimator
            from satisfaction.report.pls_context import pls_model_section

            return pls_model_section(self)
        sem = self.a.sem
        if sem is None:
            return None
        fm = sem.fit_measures
        fit = self.table("fit", self.t("model.fit"),
                         [self.t("columns.measure"), self.t("columns.value"),
                          self.t("columns.threshold"), self.t("columns.met")],
                         [False, True, True, False], note=self.t("model.fit_note"))
        chisq = fm.get("chisq")
        # the χ² test has no threshold to meet: its p-value stands beside it
        fit.add(self.t("model.chisq"),
                Cell(f"{fmt(chisq, 2)} ({fmt(fm.get('df'), 0)}), p {fmt_p(fm.get('pvalue'))}",
                     plain(chisq)),
                Cell("–", None), Cell("–", None))
        strict_ok, loose_ok, known = True, True, True
        for name, op, strict, loose in FIT_THRESHOLDS:
            v = fm.get(name)
            if _missing(v):
                known = False
                continue
            ok = v >= strict if op == ">=" else v <= strict
            fine = v >= loose if op == ">=" else v <= loose
            strict_ok &= bool(ok)
            loose_ok &= bool(fine)
            label = name.upper()
            if name == "rmsea" and not _missing(fm.get("rmsea.ci.lower")):
                shown = (f"{fmt(v)} [{fmt(fm.get('rmsea.ci.lower'))}, "
                         f"{fmt(fm.get('rmsea.ci.upper'))}]")
            else:
                shown = fmt(v)
            fit.add(label, Cell(shown, plain(v)), Cell(f"{'≥' if op == '>=' else '≤'} {strict}",
                                                       strict),
                    Cell(self.t("meta.answer_yes") if ok else self.t("meta.answer_no"),
                         bool(ok), not ok))
        verdict = ("inadmissible" if sem.status == "invalid"
                   else "unknown" if not known or not sem.converged
                   else "good" if strict_ok else "acceptable" if loose_ok else "poor")
        params = sem.parameters
        if "group" in params.columns:
            params = params[params["group"] == params["group"].iloc[0]]
        reg = params[params["op"] == "~"]
        paths = self.table("paths", self.t("model.paths"),
                           [self.t("columns.path"), self.t("columns.estimate"),
                            self.t("columns.se"), self.t("columns.std"),
                            self.t("columns.std_ci"), self.t("columns.pvalue")],
                           [False, True, True, True, True, True])
        for _, r in reg.iterrows():
            improper = not _missing(r["std.all"]) and abs(r["std.all"]) > 1
            paths.add(f"{self.name(r['rhs'])} → {self.name(r['lhs'])}", num(r["est"]),
                      num(r["se"]), Cell(fmt(r["std.all"]) + charts.stars(r["pvalue"]),
                                         plain(r["std.all"]), improper),
                      self._ci(r.get("std.ci.lower"), r.get("std.ci.upper")),
                      Cell(fmt_p_cell(r["pvalue"]), plain(r["pvalue"])))
        structural = self._structural()
        r2 = self.table("r2", self.t("model.r2"),
                        [self.t("columns.construct"), self.t("columns.r2")], [False, True])
        for c in structural:
            if c in sem.r2:
                r2.add(self.name(c), num(sem.r2[c]))
        effects = self._effects(sem)
        boot = getattr(sem, "bootstrap", None) or {}
        note = (self.t("model.effects_note", draws=fmt(boot.get("succeeded", boot.get("draws"))),
                       seed=boot.get("seed", self.a.options.get("seed")))
                if boot else self.t("model.effects_note_delta"))
        if self.a.options.get("sem_missing") == "fiml":
            note += " " + self.t("model.fiml_note", share=fmt_pct(self._missing_share()))
        effects.note = note
        return {"fit": fit, "verdict": verdict,
                "verdict_text": self.t(f"model.verdict_{verdict}"),
                "verdict_short": self.t(f"model.short_{verdict}"),
                "paths": paths, "r2": r2 if r2.rows else None, "effects": effects,
                "n_note": self.t("model.n_note", n=fmt(int(sem.n))),
                "status": sem.status,
                "invalid_note": self.t("model.invalid_note") if sem.status == "invalid"
                else None,
                "diagram": self._diagram(sem, reg, structural)}

    def _structural(self) -> list[str]:
        order: list[str] = []
        for reg in self.q.regressions:
            for v in (*reg.rhs, reg.lhs):
                if v not in order:
                    order.append(v)
        return order

    def _ci(self, lower: Any, upper: Any, digits: int = 3) -> Cell:
        """An interval cell; empty when the interval does not exist."""
        if _missing(lower) or _missing(upper):
            return Cell("", None)
        return Cell(f"[{fmt(lower, digits)}, {fmt(upper, digits)}]", (plain(lower), plain(upper)))

    def _missing_share(self) -> float:
        shares = self.a.options.get("missing_share") or {}
        return max(shares.values()) if shares else 0.0

    def _effects(self, sem: Any) -> Table:
        """Standardized direct, indirect and total effects, each with its own interval
        (from the same standardized quantity); an absent effect is a dash."""
        eff = sem.effects
        cols = [self.t("columns.from"), self.t("columns.to"), self.t("columns.direct"),
                self.t("columns.ci"), self.t("columns.indirect"), self.t("columns.ci"),
                self.t("columns.total"), self.t("columns.ci")]
        table = self.table("effects", self.t("model.effects"), cols,
                           [False, False, *[True] * (len(cols) - 2)])
        structural = set(self._structural())
        for _, r in eff.iterrows():
            if r["from"] not in structural or r["to"] not in structural:
                continue  # loadings of first-order factors on their stage are not effects
            cells: list[Cell | str] = [self.name(r["from"]), self.name(r["to"])]
            for m in ("std.direct", "std.indirect", "std.total"):
                value = r.get(m)
                if _missing(value):
                    cells += [Cell("–", None), Cell("", None)]
                else:
                    cells += [num(value), self._ci(r.get(f"{m}.ci.lower"),
                                                   r.get(f"{m}.ci.upper"))]
            table.add(*cells)
        return table

    def _diagram(self, sem: Any, reg: pd.DataFrame, structural: list[str]) -> str | None:
        if not structural:
            return None
        preds: dict[str, set[str]] = {v: set() for v in structural}
        for _, r in reg.iterrows():
            if r["lhs"] in preds and r["rhs"] in preds:
                preds[r["lhs"]].add(r["rhs"])
        depth: dict[str, int] = {}

        def col(v: str, seen: tuple[str, ...] = ()) -> int:
            if v not in depth:
                depth[v] = 0 if not preds[v] or v in seen else \
                    1 + max(col(p, (*seen, v)) for p in preds[v])
            return depth[v]

        stage_order = {"pre_sale": 0, "in_sale": 1, "post_sale": 2, "outcome": 3, "other": 4}
        nodes = []
        for v in structural:
            stage = self.q.stage_of(v) if v in {c.id for c in self.q.constructs} else "other"
            nodes.append({"id": v, "label": self.name(v), "column": col(v),
                          "order": stage_order.get(stage, 4),
                          "r2": f"R² = {fmt(sem.r2[v], 2)}" if v in sem.r2 else ""})
        nodes.sort(key=lambda n: (n["column"], n["order"]))
        edges = [{"from": r["rhs"], "to": r["lhs"],
                  "label": fmt(r["std.all"], 2) + charts.stars(r["pvalue"]),
                  "significant": not _missing(r["pvalue"]) and r["pvalue"] < 0.05}
                 for _, r in reg.iterrows() if r["lhs"] in preds and r["rhs"] in preds]
        return charts.path_diagram(nodes, edges)

    def drivers(self) -> dict[str, Any] | None:
        ind = self.a.indices
        if ind is None:
            return None
        out: dict[str, Any] = dict.fromkeys(("stages", "stage_chart", "stage_title", "ipa",
                                             "ipa_chart", "ipa_note", "top_stage",
                                             "stage_legend"))
        if len(ind.stages):
            out["stage_title"] = self.t(stage_title_key(self.q, ind.stages))
            st = self.table("stage_indices", out["stage_title"],
                            [self.t("columns.stage_name"), self.t("columns.index"),
                             self.t("columns.ci"), self.t("columns.n")],
                            [False, True, True, True])
            for _, r in ind.stages.iterrows():
                st.add(self.stage(r["stage"]), num(r["index"], 1),
                       Cell(f"[{fmt(r['ci.lower'], 1)}, {fmt(r['ci.upper'], 1)}]",
                            (plain(r['ci.lower']), plain(r['ci.upper']))),
                       (fmt(int(r["n"])), int(r["n"])))
            out["stages"] = st
            out["stage_chart"] = charts.bar_index(
                [self.stage(s) for s in ind.stages["stage"]], [plain(v) for v in
                                                               ind.stages["index"]],
                [plain(v) for v in ind.stages["ci.lower"]],
                [plain(v) for v in ind.stages["ci.upper"]], self.t("charts.index"),
                colors=[STAGE_COLOURS.get(str(st), charts.GREY) for st in ind.stages["stage"]],
                sort=False)
        cons = self.table("indices", self.t("drivers.constructs"),
                          [self.t("columns.construct"), self.t("columns.stage"),
                           self.t("columns.index"), self.t("columns.ci"), self.t("columns.n")],
                          [False, False, True, True, True])
        for _, r in ind.constructs.iterrows():
            cons.add(self.name(r["construct"]), self.stage(r["stage"]), num(r["index"], 1),
                     Cell(f"[{fmt(r['ci.lower'], 1)}, {fmt(r['ci.upper'], 1)}]",
                            (plain(r['ci.lower']), plain(r['ci.upper']))),
                     (fmt(int(r["n"])), int(r["n"])))
        out["constructs"] = cons
        # first-order dimensions and outcomes (the stage factors have their own chart),
        # highest first, coloured by purchase stage
        shown = ind.constructs[~ind.constructs["construct"].isin(
            [c.id for c in self.q.higher_order])] if len(ind.stages) else ind.constructs
        out["construct_chart"] = charts.bar_index(
            [self.name(c) for c in shown["construct"]],
            [plain(v) for v in shown["index"]],
            [plain(v) for v in shown["ci.lower"]],
            [plain(v) for v in shown["ci.upper"]], self.t("charts.index"),
            colors=[STAGE_COLOURS.get(str(st), charts.GREY) for st in shown["stage"]])
        out["stage_legend"] = [{"colour": STAGE_COLOURS[k], "label": self.stage(k)}
                               for k in STAGE_COLOURS if k in set(shown["stage"])]
        ipa = self.a.ipa
        if ipa is not None and len(ipa.constructs):
            c = ipa.constructs
            shares = "importance.method" in c.columns and (c["importance.method"] != "total_effect")
            # one map, one measure: with mixed measures the map shows the R² shares
            shown = c[shares] if "importance.method" in c.columns and shares.any() else c
            share_axis = "importance.method" in c.columns and shares.any()
            mean_imp = float(shown["importance"].mean())

            def col(frame: pd.DataFrame, name: str) -> list[float | None]:
                if name not in frame.columns:
                    return [None] * len(frame)
                return [None if _missing(v) else float(v) for v in frame[name]]

            def around(frame: pd.DataFrame, side: str) -> list[float | None]:
                # the paired interval of the point's difference from the drivers' mean,
                # drawn around the point itself
                if "performance.diff" not in frame.columns:
                    return [None] * len(frame)
                out: list[float | None] = []
                for _, r in frame.iterrows():
                    lim = r.get(f"performance.diff.ci.{side}")
                    out.append(None if _missing(lim) else
                               float(r["performance"] - r["performance.diff"] + lim))
                return out

            names = {k: self.t(f"quadrants.{k}") for k in
                     ("concentrate_here", "keep_up", "low_priority", "possible_overkill",
                      "undetermined")}
            out["ipa_chart"] = charts.ipa_map(
                [self.name(x) for x in shown["construct"]],
                [float(x) for x in shown["importance"]],
                [float(x) for x in shown["performance"]], mean_imp,
                float(shown["mean.performance"].iloc[0]),
                self.t("charts.importance_share" if share_axis else "charts.importance"),
                self.t("charts.performance"), names,
                importance_lower=col(shown, "importance.ci.lower"),
                importance_upper=col(shown, "importance.ci.upper"),
                performance_lower=around(shown, "lower"),
                performance_upper=around(shown, "upper"),
                quadrants=list(shown["quadrant"]))
            tab = self.table("ipa", self.t("drivers.ipa_table"),
                             [self.t("columns.construct"), self.t("columns.stage"),
                              self.t("columns.importance"), self.t("columns.ci"),
                              self.t("columns.performance"), self.t("columns.quadrant")],
                             [False, False, True, True, True, False])
            for _, r in c.sort_values("importance", ascending=False).iterrows():
                tab.add(self.name(r["construct"]), self.stage(r["stage"]),
                        num(r["importance"]),
                        self._ci(r.get("importance.ci.lower"), r.get("importance.ci.upper")),
                        num(r["performance"], 1),
                        Cell(self.label("quadrants", r["quadrant"]), r["quadrant"],
                             r["quadrant"] == "concentrate_here"))
            out["ipa"] = tab
            out["ipa_note"] = self.t("drivers.ipa_note_shapley" if share_axis
                                     else "drivers.ipa_note", target=self.name(ipa.target))
            top = ipa.top_stage
            out["top_stage"] = self.t("summary.stage_top", stage=self.stage(top)) \
                if top else None
        return out

    def groups(self) -> dict[str, Any] | None:
        cmp = self.a.compare
        if cmp is None:
            return None
        tests = cmp.tests
        from satisfaction.report.associations_context import associations_section
        from satisfaction.report.weighted_context import weighted_tests_table

        associations = associations_section(self, cmp)  # numeric groups: correlations
        by_names = []
        for g in self.q.groups:
            if (len(tests) and g.id in set(tests["by"])) or \
                    (associations and g.id in associations["variables"]):
                by_names.append(g.name.get(self.lang) if g.name else g.id)
        findings = []
        inv = getattr(cmp, "invariance", None)
        comparable: dict[tuple[str, str], bool] = {}
        invariance = None
        if inv is not None and len(inv):
            invariance = self.table("invariance", self.t("groups.invariance"),
                                    [self.t("columns.construct"), self.t("columns.by"),
                                     self.t("groups.invariance")], [False, False, False],
                                    note=self.t("groups.invariance_note"))
            for _, r in inv.iterrows():
                ok = r["means_comparable"]
                if ok is not None and not _missing(ok):
                    comparable[(r["construct"], r["group"])] = bool(ok)
                invariance.add(self.name(r["construct"]), self._group_name(r["group"]),
                               Cell(self.label("groups.levels", r["level"]), r["level"],
                                    ok is not None and not _missing(ok) and not ok))
        # a weighted survey: the design-based tests of means decide (weighted_marks)
        weighted = len(tests) > 0 and "weighted.pvalue.adjusted" in tests.columns
        if weighted:
            sig = tests[(tests["family"] == "means")
                        & (tests["weighted.pvalue.adjusted"] < 0.05)]
            sig = sig.drop_duplicates(["construct", "by"])
        elif len(tests):
            sig = tests[(tests["pvalue.adjusted"] < 0.05) & (tests["test"] != "chi2")]
            sig = sig.assign(_means=sig["family"] != "means").sort_values(
                ["_means"], kind="stable").drop_duplicates(["construct", "by"])
        if len(tests):
            for _, r in sig.iterrows():
                groups = r["groups"] if isinstance(r["groups"], dict) else {}
                parts = [f"{self._category(r['by'], k, v)} {fmt(v.get('mean'), 1)}"
                         for k, v in groups.items() if isinstance(v, dict)]
                text = self.t(
                    "groups.finding_weighted", construct=self.name(r["construct"]),
                    by=self._group_name(r["by"]), groups=self._join(parts),
                    test=self.label("tests", r["weighted.test"]),
                    p=fmt_p(r["weighted.pvalue.adjusted"])) if weighted else self.t(
                    "groups.finding", construct=self.name(r["construct"]),
                    by=self._group_name(r["by"]), groups=self._join(parts),
                    test=self.label("tests", r["test"]), p=fmt_p(r["pvalue.adjusted"]),
                    effect=self.label("effects", r["effect"]), size=fmt(r["effect.size"]))
                if not comparable.get((r["construct"], r["by"]), True):
                    text += " " + self.t("groups.not_comparable",
                                         by=self._group_name(r["by"]))
                findings.append(text)
        cols = [self.t("columns.construct"), self.t("columns.by"), self.t("columns.test"),
                self.t("columns.statistic"), self.t("columns.df"), self.t("columns.pvalue"),
                self.t("columns.padj"), self.t("columns.effect")]
        numeric = [False, False, False, True, True, True, True, True]
        # The page shows the tests of means (and of independence); the rank tests that
        # ask the same question again are in the workbook and the JSON.
        table = self.table("group_tests", self.t("groups.all_tests"), cols, numeric,
                           note=self.t("groups.table_note"))
        full = self.table("group_tests_all", self.t("groups.all_tests"), cols, numeric)
        full.pdf = False
        for _, r in tests.iterrows():
            name = self._group_name(r["construct"]) if r["test"] == "chi2" else \
                self.name(r["construct"])
            df = fmt(r["df"], 2) if _missing(r.get("df2")) else \
                f"{fmt(r['df'], 2)}, {fmt(r['df2'], 2)}"
            cells = (name, self._group_name(r["by"]), self.label("tests", r["test"]),
                     num(r["statistic"]), Cell(df, plain(r["df"])),
                     Cell(fmt_p_cell(r["pvalue"]), plain(r["pvalue"])),
                     Cell(fmt_p_cell(r["pvalue.adjusted"]), plain(r["pvalue.adjusted"]),
                          not _missing(r["pvalue.adjusted"]) and r["pvalue.adjusted"] < 0.05),
                     Cell(f"{self.label('effects', r['effect'])} = {fmt(r['effect.size'])}",
                          plain(r["effect.size"])))
            full.add(*cells)
            if r.get("family") == "means":
                table.add(*cells)
        return {"intro": self.t("groups.intro", groups=self._join(by_names) or "–",
                                adjust=self.label("adjust", cmp.adjust)),
                "findings": findings, "table": table, "invariance": invariance,
                "chart": self._group_chart(tests),
                "chart_note": self.t("groups.chart_note_weighted"
                                     if getattr(self.a, "weighted", None) is not None
                                     else "groups.chart_note"),
                "weighted_tests": weighted_tests_table(self),  # design-based, or None
                "associations": associations}

    def _group_chart(self, tests: pd.DataFrame) -> str | None:
        """Group means with 95 % t-intervals: satisfaction and loyalty by every group
        variable, then any other construct that differs significantly (at most 12
        panels); the panel title carries the test's adjusted p-value and marks."""
        if not len(tests):
            return None
        means = tests[tests["family"] == "means"]
        # a weighted survey: the design-based tests' adjusted p (weighted_marks)
        padj = "weighted.pvalue.adjusted" if "weighted.pvalue.adjusted" in tests.columns \
            else "pvalue.adjusted"
        key = [self.a.satisfaction, self.a.loyalty]
        first = means[means["construct"].isin(key)]
        other = means[~means["construct"].isin(key) & (means[padj] < 0.05)]
        panels = []
        for _, r in pd.concat([first, other]).head(12).iterrows():
            groups = {k: v for k, v in (r["groups"] or {}).items() if isinstance(v, dict)}
            # weighted means carry their design-based interval (weighted_context.py)
            rows = [(self._category(r["by"], k, v), v.get("mean"),
                     *((v["ci.lower"], v["ci.upper"]) if v.get("weighted") else
                       mean_interval(v.get("mean"), v.get("sd"), v.get("n"))))
                    for k, v in groups.items()]
            rows = [x for x in rows if x[2] is not None]
            if len(rows) < 2:
                continue
            p = r[padj]
            sig = not _missing(p) and p < 0.05
            title = self.t("groups.panel", construct=self.name(r["construct"]),
                           by=self._group_name(r["by"]), p=fmt_p(p),
                           marks=charts.stars(p) if sig else self.t("groups.ns"))
            panels.append({"title": title, "labels": [x[0] for x in rows],
                           "means": [float(x[1]) for x in rows],
                           "lower": [x[2] for x in rows], "upper": [x[3] for x in rows],
                           "significant": sig})
        return charts.group_means(panels, self.t("charts.index")) if panels else None

    def _category(self, gid: str, key: Any, info: dict[str, Any]) -> str:
        """A group's category in the report language (the test's label otherwise)."""
        try:
            return self.q.group(gid).label(key, self.lang)
        except (KeyError, AttributeError, ValueError):
            return str(info.get("label", key))

    def category(self, gid: str, code: Any) -> str:
        """A category (code) of group variable ``gid`` as the report names it: its
        label in the report language, else the code (a diagnostic's ``categories``)."""
        try:
            return self.q.group(gid).label(code, self.lang)
        except KeyError:
            return str(code)

    def _group_name(self, gid: str) -> str:
        try:
            g = self.q.group(gid)
        except KeyError:
            return str(gid)
        return g.name.get(self.lang) if g.name else g.id

    def recommendations(self) -> list[dict[str, Any]] | None:
        """The ranked recommendations in the report language.

        The engine has worded every text with the questionnaire's names. The RFM
        segments and the RFM value groups both classify every customer, so one segment
        rule matching in both would repeat itself for the same customers: the page
        shows, per rule, the matches in the scheme of the report's RFM section (the
        value groups only when the rule matches nothing there), merged into one
        recommendation whose counts add up; the others are counted in a note (all of
        them are in the JSON).
        """
        recs = self.a.recommendations
        if recs is None:
            return None
        self.recommendations_note = None
        shown_segments = self._rfm_segments()
        by_rule: dict[str, list[Any]] = {}
        for r in recs:
            if r.condition == "segment":
                by_rule.setdefault(r.rule, []).append(r)
        cards: list[tuple[float, int, dict[str, Any]]] = []
        hidden: list[Any] = []
        done: set[str] = set()
        for r in recs:
            if r.condition != "segment":
                cards.append((r.priority, r.rank, self._card([r])))
                continue
            if r.rule in done:
                continue
            done.add(r.rule)
            hits = by_rule[r.rule]
            main = [h for h in hits if str(h.evidence.get("segment")) in shown_segments]
            if not main:
                main = [h for h in hits if str(h.evidence.get("segment")) not in shown_segments]
            hidden += [h for h in hits if h not in main]
            cards.append((sum(h.priority for h in main), main[0].rank, self._card(main)))
        cards.sort(key=lambda c: (-round(c[0], 10), c[1]))
        out = []
        for rank, (_, _, card) in enumerate(cards, start=1):
            card["rank"] = rank
            out.append(card)
        if hidden:
            names = self._join(dict.fromkeys(self.label("segments", h.evidence.get("segment"))
                                             for h in hidden))
            self.recommendations_note = self.t("recommendations.other_scheme",
                                               n=fmt(len(hidden)), segments=names)
        return out

    def _rfm_segments(self) -> set[str]:
        value = self.a.value or {}
        rfm = value.get("rfm")
        data = getattr(rfm, "data", None)
        if data is None or "rfm_segment" not in data.columns:
            return set()
        return {str(v) for v in data["rfm_segment"].dropna().unique()}

    def _card(self, hits: list[Any]) -> dict[str, Any]:
        """One recommendation from one or more matches of the same rule (same scheme).

        The strategy engine words title, action, rationale and the evidence
        sentence in both languages with the questionnaire's names; the card only
        chooses the report language and joins merged matches.
        """
        r = hits[0]

        def text(h: Any, part: str) -> str:
            words = getattr(h, part)
            return words.get(self.lang, words["en"])

        rationale = self.t("meta.sentence_sep").join(
            dict.fromkeys(text(h, "rationale") for h in hits))
        evidence = " ".join(dict.fromkeys(
            h.sentence.get(self.lang) or h.sentence.get("en") or "" for h in hits)).strip()
        caution = next((h.caution_text.get(self.lang) for h in hits
                        if getattr(h, "caution", False) and h.caution_text), None)
        return {"rank": r.rank, "rule": r.rule, "condition": r.condition,
                "title": text(r, "title"),
                "action": text(r, "action"), "rationale": rationale, "caution": caution,
                "gates": dict(getattr(r, "gates", {}) or {}),
                "priority": fmt(sum(h.priority for h in hits), 1), "evidence": evidence,
                "priority_value": float(sum(h.priority for h in hits)),
                "matches": [{"rank": h.rank, "segment": h.evidence.get("segment")}
                            for h in hits],
                "stage": self.stage(r.stage) if r.stage else "",
                "subject": self.name(r.subject)}

    def _join(self, parts: Any) -> str:
        return self.t("meta.list_sep").join(str(p) for p in parts)

    def limitations(self) -> list[dict[str, str]]:
        """What the reader must know before reading any finding: every diagnostic
        that invalidates a result, then the cautions on the structural model and
        the drivers (one line each, in the report language)."""
        out = []
        for w in self.a.warnings:
            key = (w.severity, w.stage)
            if w.severity == "invalidates" or (w.severity == "caution" and
                                               w.stage in ("model", "drivers")):
                out.append({"severity": w.severity, "key": key,
                            "stage": self.label("warning_stages", w.stage),
                            "text": w.diagnostic.text(self.lang, self.name, self.category)})
        recs = self.a.recommendations
        for lim in getattr(recs, "limitations", None) or []:
            text = lim.text.get(self.lang) if isinstance(lim.text, dict) else str(lim.text)
            out.append({"severity": "invalidates", "key": ("strategy",),
                        "stage": self.label("warning_stages", "strategy"), "text": text})
        out.sort(key=lambda d: 0 if d["severity"] == "invalidates" else 1)
        return [{k: v for k, v in d.items() if k != "key"} for d in out]

    def gates(self) -> dict[str, str]:
        """Gate status of every result the report draws on (``ok``, ``caution``, ``invalid``)."""
        from satisfaction.diagnostics import status

        out = {}
        for name in ("reliability", "efa", "sem", "indices", "ipa", "compare", "link"):
            result = getattr(self.a, name, None)
            if result is not None:
                out[name] = getattr(result, "status", None) or status(
                    [w for w in getattr(result, "warnings", []) or []
                     if hasattr(w, "severity")])
        return out

    def appendix(self) -> dict[str, Any]:
        versions = self.a.to_versions() if hasattr(self.a, "to_versions") else None
        if versions is None:
            from satisfaction.pipeline import software_versions
            versions = software_versions()
        sw = self.table("software", self.t("appendix.software"),
                        [self.t("columns.software"), self.t("columns.version")], [False, False])
        for k, v in versions.items():
            sw.add(k, v)
        cmp = self.a.compare
        methods = [self.t("appendix.estimators"), self.t("appendix.indices"),
                   self.t("appendix.tests", adjust=self.label(
                       "adjust", cmp.adjust if cmp is not None else "holm"))]
        if cmp is None and not self.q.groups:
            methods.append(self.t("groups.not_run"))
        if self.a.value is None:
            methods.append(self.t("value.not_given"))
        else:
            models = self.a.options.get("clv_models") or []
            methods.append(self.t("appendix.value", models=self._join(
                MODEL_NAMES.get(m, m) for m in models) or "–"))
        methods.append(self.t("appendix.options", bootstrap=fmt(self.a.options.get("bootstrap")),
                              seed=self.a.options.get("seed")))
        wording = self.table("questionnaire", self.t("sections.wording"),
                             [self.t("columns.item"), self.t("columns.construct"),
                              self.t("columns.text"), self.t("columns.scale"),
                              self.t("columns.reverse")], [False, False, False, False, False])
        owner = self.q.construct_of_item()
        for item in self.q.analysed_items:
            scale = self.q.item_scale(item)
            wording.add(item.id, self.name(owner.get(item.id, item.id)),
                        item.text.get(self.lang),
                        self.t("appendix.scale", min=fmt(scale.min, 0), max=fmt(scale.max, 0)),
                        self.t("meta.answer_yes") if item.reverse else "")
        log = self.a.responses.log
        problems = self.table("problems", self.t("sections.log"),
                              [self.t("columns.row"), self.t("columns.respondent"),
                               self.t("columns.column"), self.t("columns.given"),
                               self.t("columns.rule"), self.t("columns.message")],
                              [True, False, False, False, False, False],
                              note=self.t("appendix.log_intro"))
        for p in log.problems.itertuples(index=False):
            problems.add(Cell("–" if _missing(p.row) else str(int(p.row)), plain(p.row)),
                         "" if _missing(p.respondent) else str(p.respondent),
                         "" if _missing(p.column) else str(p.column),
                         _given(p.value), self.label("reasons", p.rule),
                         Cell(problem_text(p, self.lang), str(p.message)))
        shown = problems.rows[:MAX_LOG_ROWS]
        more = len(problems.rows) - len(shown)
        warnings = self.table("warnings", self.t("sections.warnings"),
                              [self.t("columns.message_stage"), self.t("columns.severity"),
                               self.t("columns.warning")],
                              [False, False, False])
        for w in self.a.warnings:
            warnings.add(Cell(self.label("warning_stages", w.stage), w.stage),
                         Cell(self.label("severity", w.severity), w.severity,
                              w.severity == "invalidates"),
                         Cell(w.diagnostic.text(self.lang, self.name, self.category),
                              w.message))
        return {"methods": methods, "software": sw, "wording": wording, "problems": problems,
                "problems_shown": shown,
                "problems_more": self.t("appendix.log_more", n=fmt(more)) if more > 0 else None,
                "warnings": warnings}


def _given(value: Any) -> str:
    """A value as given in the responses file (a whole float such as 7.0 shown as 7)."""
    if _missing(value):
        return ""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _is_num(v: Any) -> bool:
    return isinstance(v, int | float | np.number) and not isinstance(v, bool)


def build_context(analysis: Any, lang: str = "en", *, date: dt.date | None = None,
                  value_builder: Any = None, waves: Any = None) -> dict[str, Any]:
    """The report context: translated texts, formatted tables and SVG charts.

    Parameters
    ----------
    analysis : Analysis
        From :func:`satisfaction.pipeline.run`.
    lang : {"en", "zh"}
    date : date, optional
        Shown on the cover (default today).
    waves : WaveComparison, optional
        The change of each index since the previous wave
        (:func:`satisfaction.waves.compare_waves`): shown in the summary and the
        index tables.

    Returns
    -------
    dict
        ``t`` (the message catalog), ``lang``, ``title``, ``cover``, one entry per
        section (``None`` when the stage did not run) and ``tables`` (every
        :class:`Table`, in order, for the Excel workbook).
    """
    from satisfaction.report.weighted_context import weighted_view

    analysis = weighted_view(analysis)  # a weighted survey shows its weighted figures
    b = _Builder(analysis, lang)
    from satisfaction import __version__

    quality = b.quality()
    measurement = b.measurement()
    model = b.model()
    from satisfaction.report.pls_context import pls_measurement

    measurement = pls_measurement(b, measurement, model)  # PLS: its own measurement
    drivers = b.drivers()
    groups = b.groups()
    from satisfaction.report.value_context import value_section

    value = value_section(b)
    from satisfaction.report.items_context import items_section
    from satisfaction.report.methods_context import methods_section
    from satisfaction.report.summary_context import SURVEY_CONDITIONS, summary_section

    items = items_section(b)
    from satisfaction.report.text_context import themes_section

    themes = themes_section(b)
    if groups is not None:  # key drivers within groups (satisfaction/group_drivers.py)
        from satisfaction.report.group_drivers_context import group_drivers_section

        groups["drivers"] = group_drivers_section(b)
    recs = b.recommendations()
    summary = summary_section(b, model, drivers, recs, items)
    from satisfaction.report.waves_context import waves_section

    previous = waves_section(b, waves, summary)
    if value is not None and recs:
        # actions on the customer database stand in the customer-value chapter
        value["actions"] = [r for r in recs if r.get("condition") not in SURVEY_CONDITIONS]
    appendix = b.appendix()
    appendix["methods_blocks"] = methods_section(b)
    from satisfaction.report.pls_context import pls_drivers_note, pls_methods

    pls_methods(b, appendix["methods_blocks"])  # PLS: the estimator and why
    pls_drivers_note(b, drivers)
    from satisfaction.report.summary_context import summary_waves

    summary_waves(b, summary, previous, waves)  # the changes among the findings
    q = analysis.questionnaire
    log = analysis.responses.log
    cover = [b.t("cover.respondents", n=fmt(log.analysed)),
             b.t("cover.model", model=q.title.get(lang))]
    if value and value.get("customers") is not None:
        cover.append(b.t("cover.customers", n=value["customers"]))
    return {
        "lang": lang, "t": b.m, "title": q.title.get(lang), "report": b.t("meta.report"),
        "generated": b.t("meta.generated", date=(date or dt.date.today()).isoformat(),
                         version=__version__),
        "cover": cover, "summary": summary, "quality": quality, "measurement": measurement,
        "model": model, "drivers": drivers, "groups": groups, "value": value, "items": items,
        "groups_defined": bool(q.groups),
        "recommendations": recs, "recommendations_note": b.recommendations_note,
        "appendix": appendix, "tables": b.tables, "gates": b.gates(), "waves": previous,
        "themes": themes,
    }
