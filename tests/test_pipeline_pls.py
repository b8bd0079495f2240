"""PLS in the pipeline and the report (issue 14, point 9).

The estimator is chosen by the questionnaire (``estimator: pls``), by a formative
construct, or falls back to PLS when the CB-SEM solution fails a validity gate
(the bank ECSI model: standardized paths beyond ±1, non-positive-definite latent
covariances). Checked here: the choice and its record; that the report's index is
the ACSI formula on the PLS weights (a second implementation in this file, from
the item means); that the IPA's importance is the IPMA's unstandardized total
effect; and that every interval of the PLS tables and of the PLS JSON contains
its estimate.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from satisfaction.pipeline import run
from satisfaction.pls_pipeline import choose_estimator
from satisfaction.questionnaire import load_questionnaire
from satisfaction.report.context import build_context
from tests.conftest import QUESTIONNAIRES

DRAWS = 200


def _variant(tmp: Path, name: str, edit: Any) -> Path:
    text = (QUESTIONNAIRES / "ecsi_bank.yaml").read_text(encoding="utf-8")
    path = tmp / f"{name}.yaml"
    path.write_text(edit(text), encoding="utf-8")
    return path


def _with_estimator(text: str) -> str:
    return text.replace("\nconstructs:\n", "\nestimator: pls\nconstructs:\n", 1)


def _formative_image(text: str) -> str:
    return text.replace("  - id: Image\n", "  - id: Image\n    mode: formative\n", 1)


@pytest.fixture(scope="module")
def bank(bank_csv: Path) -> Any:
    """The bank ECSI model: CB-SEM inadmissible, so the analysis falls back to PLS."""
    return run(QUESTIONNAIRES / "ecsi_bank.yaml", bank_csv, bootstrap=DRAWS, seed=7,
               parallel=False)


@pytest.fixture(scope="module")
def bank_chosen(bank_csv: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    q = _variant(tmp_path_factory.mktemp("q"), "bank_pls", _with_estimator)
    return run(q, bank_csv, bootstrap=DRAWS, seed=7, parallel=False)


def test_the_estimator_is_chosen_by_the_questionnaire_or_a_formative_construct(
        tmp_path: Path) -> None:
    assert choose_estimator(load_questionnaire("ecsi_bank")).estimator == "sem"
    chosen = choose_estimator(load_questionnaire(_variant(tmp_path, "a", _with_estimator)))
    assert (chosen.estimator, chosen.reason) == ("pls", "questionnaire")
    formative = choose_estimator(load_questionnaire(_variant(tmp_path, "b", _formative_image)))
    assert (formative.estimator, formative.reason) == ("pls", "formative")


def test_bank_falls_back_to_pls_and_says_why(bank: Any) -> None:
    assert bank.sem is not None and bank.sem.status == "invalid"
    gates = [d.code for d in bank.sem.warnings if d.severity == "invalidates"]
    assert gates
    assert bank.options["estimator"] == {"used": "pls", "reason": "fallback",
                                         "gates": list(dict.fromkeys(gates))}
    notes = [w for w in bank.warnings if w.code == "estimator_pls_fallback"]
    assert len(notes) == 1 and notes[0].stage == "model" and notes[0].severity == "caution"
    assert notes[0].diagnostic.params["n"] == len(set(gates))
    assert bank.pls.status == "ok" and bank.pls.result.converged
    assert bank.ipa.status != "invalid"
    # the strategy reads the PLS gate for the structural model, not the CB-SEM one
    assert bank.recommendations.to_dict()["gates"]["sem"] == "ok"
    assert bank.to_dict()["pls"]["estimate"]["estimator"] == "pls"


def test_questionnaire_choice_fits_no_cb_sem(bank_chosen: Any, bank: Any) -> None:
    assert bank_chosen.sem is None
    assert bank_chosen.options["estimator"] == {"used": "pls", "reason": "questionnaire",
                                                "gates": []}
    assert any(w.code == "estimator_pls_questionnaire" for w in bank_chosen.warnings)
    pd.testing.assert_frame_equal(bank_chosen.pls.result.paths, bank.pls.result.paths)


def test_formative_construct_is_estimated_in_mode_b(bank_csv: Path, tmp_path: Path) -> None:
    a = run(_variant(tmp_path, "f", _formative_image), bank_csv, bootstrap=0,
            parallel=False)
    assert a.options["estimator"]["reason"] == "formative" and a.sem is None
    w = a.pls.result.weights
    assert set(w.loc[w["construct"] == "Image", "mode"]) == {"B"}
    assert "Image" not in a.pls.constructs.index  # no reliability of a composite


def test_index_is_the_acsi_formula_on_the_pls_weights(bank: Any, bank_csv: Path) -> None:
    """Second implementation: unstandardize each PLS weight by its item's standard
    deviation on 0-100, normalize to sum 1, and weight the item means on 0-100."""
    q = bank.questionnaire
    data = pd.read_csv(bank_csv)
    w = bank.pls.result.weights
    cons = bank.indices.constructs.set_index("construct")
    for c in q.constructs:
        items = [i.id for i in c.items]
        lo = np.array([q.item_scale(i).min for i in c.items], dtype=float)
        hi = np.array([q.item_scale(i).max for i in c.items], dtype=float)
        x = (data[items].to_numpy(dtype=float) - lo) / (hi - lo) * 100
        raw = w.set_index("indicator").loc[items, "est"].to_numpy() / x.std(axis=0, ddof=1)
        acsi = float((raw / raw.sum()) @ x.mean(axis=0))
        assert cons.loc[c.id, "index"] == pytest.approx(acsi, abs=1e-9)
        assert bank.pls.ipma.index[c.id] == pytest.approx(acsi, abs=1e-9)
        assert 0 <= acsi <= 100
    sat = bank.satisfaction
    boot = bank.pls.ipma.index_intervals.set_index("construct")
    assert cons.loc[sat, "ci.lower"] == boot.loc[sat, "ci.lower"]  # the bootstrap interval


def test_ipa_importance_is_the_ipma_total_effect(bank: Any) -> None:
    ipma = bank.pls.ipma.constructs.set_index("construct")
    ipa = bank.ipa.constructs.set_index("construct")
    assert set(ipa.index) == set(ipma.index)
    for c, r in ipa.iterrows():
        assert r["importance.method"] == "total_effect"
        assert r["importance"] == pytest.approx(ipma.loc[c, "importance"], abs=1e-12)
        assert r["importance.ci.lower"] == pytest.approx(ipma.loc[c, "importance.ci.lower"])
        assert r["performance"] == pytest.approx(ipma.loc[c, "performance"], abs=1e-9)
    # the IPMA's importance: standardized total effect × sd(LV*_target) / sd(LV*_driver)
    scores = bank.pls.ipma.scores
    eff = bank.pls.result.effects.set_index(["from", "to"])["total"]
    for c in ipa.index:
        expected = eff[(c, bank.satisfaction)] * scores[bank.satisfaction].std() / \
            scores[c].std()
        assert ipa.loc[c, "importance"] == pytest.approx(expected, abs=1e-10)


def _interval_violations(context: dict[str, Any], keys: tuple[str, ...]) -> tuple[int, list]:
    checked, bad = 0, []
    for table in context["tables"]:
        if not table.key.startswith(keys):
            continue
        for row in table.rows:
            for k, cell in enumerate(row):
                if not isinstance(cell.raw, tuple):
                    continue
                before = [c.raw for c in row[:k] if isinstance(c.raw, int | float)
                          and not isinstance(c.raw, bool)]
                lo, hi = cell.raw
                checked += 1
                if not before or not lo <= before[-1] <= hi:
                    bad.append((table.key, [c.text for c in row]))
    return checked, bad


def _json_intervals(node: Any) -> tuple[int, list]:
    checked, bad = 0, []
    if isinstance(node, list):
        for x in node:
            c, b = _json_intervals(x)
            checked, bad = checked + c, bad + b
    elif isinstance(node, dict):
        for key, lower in node.items():
            if key.endswith("ci.lower"):
                base = key[: -len("ci.lower")].rstrip(".")
                est = node.get(base) if base else next(
                    (node[k] for k in ("est", "index", "htmt") if k in node), None)
                upper = node.get(f"{base}.ci.upper" if base else "ci.upper")
                if all(isinstance(v, float) and math.isfinite(v) for v in (est, lower, upper)):
                    checked += 1
                    if not lower <= est <= upper:
                        bad.append(node)
            if isinstance(lower, dict | list):
                pass
        for v in node.values():
            if isinstance(v, dict | list):
                c, b = _json_intervals(v)
                checked, bad = checked + c, bad + b
    return checked, bad


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_interval_of_the_pls_tables_contains_its_estimate(bank: Any, lang: str) -> None:
    context = build_context(bank, lang)
    checked, bad = _interval_violations(context, ("pls_", "ipa", "constructs"))
    assert not bad, bad
    paths = len(bank.pls.result.paths)
    pairs = len(bank.pls.htmt_pairs)
    assert checked >= paths + pairs + len(bank.ipa.constructs)


def test_every_interval_of_the_pls_json_contains_its_estimate(bank: Any) -> None:
    checked, bad = _json_intervals(bank.to_dict()["pls"])
    assert not bad, bad[:3]
    boot = bank.pls.result.bootstrap
    assert checked >= len(boot)  # paths, loadings, effects, IPMA, index, HTMT


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_report_says_which_estimator_and_why(bank: Any, lang: str) -> None:
    context = build_context(bank, lang)
    model = context["model"]
    q = bank.questionnaire
    gate_texts = [d.text(lang, lambda c: q.construct(c).name.get(lang))
                  for d in bank.sem.warnings if d.severity == "invalidates"]
    assert all(t in model["estimator_note"] for t in gate_texts)
    assert model["verdict"] == "good" and model["diagram"]
    # the measurement chapter shows the PLS composites' reliability and HTMT (the model
    # used), not the CFA's
    pls = context["measurement"]["pls"]
    assert [pls[k].key for k in ("reliability", "htmt")] == ["pls_reliability", "pls_htmt"]
    assert context["measurement"]["reliability"] is None and not model["extra"]
    methods = " ".join(line for block in context["appendix"]["methods_blocks"]
                       for line in block["lines"])
    assert context["t"].pls.methods_index in methods
    assert gate_texts[0] in methods
    assert context["drivers"]["ipa_note"].startswith(context["t"].pls.ipma_note[:20])
    # the summary: what the driver bars are, the top driver's IPMA importance with its
    # interval, and the fallback among the limitations shown on the page
    summary = context["summary"]
    sat = bank.questionnaire.construct(bank.satisfaction).name.get(lang)
    assert summary["driver_note"] == context["t"].pls.driver_note.format(target=sat)
    top = bank.ipa.constructs.sort_values("importance").iloc[-1]
    assert any(f"{top['importance.ci.lower']:.3f}" in f for f in summary["findings"])
    fallback = next(w for w in bank.warnings if w.code == "estimator_pls_fallback")
    shown = [lim["text"] for lim in summary["limitations"]]
    assert fallback.diagnostic.text(lang) in shown
    # an effect without a path or an indirect route is a dash, never 0 [0, 0]
    effects = next(t for t in context["tables"] if t.key == "pls_effects")
    assert not any(c.text == "[0.000, 0.000]" for row in effects.rows for c in row)
    assert sum(c.text == "–" for row in effects.rows for c in row) > 0


def test_console_summary_names_the_estimator(bank: Any) -> None:
    from types import SimpleNamespace

    from satisfaction.commands import report as command

    files = SimpleNamespace(to_dict=lambda: {})
    with command.console.capture() as out:
        command.print_summary(bank, files)
    text = out.get()
    index = bank.pls.ipma.index[bank.satisfaction]
    assert "PLS (the CB-SEM solution is inadmissible), ok" in text
    # the index row is the report's index table's figure (the PLS index, complete data)
    name = bank.questionnaire.construct(bank.satisfaction).name.en
    assert f"{name} index" in text and f"{index:.1f} [" in text and "weighted" not in text
    assert "CB-SEM fit" in text
