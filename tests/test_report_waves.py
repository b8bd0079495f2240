"""Waves: the change of each index against an earlier wave (satisfaction/waves.py).

Reference: R's Welch ``t.test(x2, x1)`` and ``p.adjust(method = "holm")`` on two
waves made from the ECSI bank data (odd rows; even rows with the satisfaction
items raised by 2 points), tests/reference/waves_welch.R → waves_welch.json.
The report test runs the same two waves through ``satisfaction report
--previous`` and reads the change in the HTML, the JSON and the workbook.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from satisfaction import drivers
from satisfaction.cli import main
from satisfaction.questionnaire import load_questionnaire
from satisfaction.report.messages import load_messages
from satisfaction.waves import compare_waves, load_previous, welch_difference

from .conftest import QUESTIONNAIRES, REFERENCE

SAT_ITEMS = [f"sat{i}" for i in range(1, 5)]


def _waves(bank_csv: Path, shift: int = 2) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Wave 1 = odd rows, wave 2 = even rows with the satisfaction items raised by ``shift``."""
    data = pd.read_csv(bank_csv)
    first = data.iloc[0::2].reset_index(drop=True)
    second = data.iloc[1::2].reset_index(drop=True).copy()
    second[SAT_ITEMS] = (second[SAT_ITEMS] + shift).clip(upper=10)
    return first, second


def _as_json(value: object) -> dict:
    return json.loads(json.dumps(value, default=float))


def test_change_equals_welch_t_test_in_r(bank_csv: Path) -> None:
    q = load_questionnaire("ecsi_bank")
    first, second = _waves(bank_csv)
    previous = _as_json({"questionnaire": q.id, "indices": drivers.indices(q, first).to_dict()})
    result = compare_waves(drivers.indices(q, second), previous)
    reference = json.loads((REFERENCE / "waves_welch.json").read_text(encoding="utf-8"))
    assert len(result.changes) == len(reference) == 8
    for ref in reference:
        row = result.change_of(ref["kind"], ref["id"])
        assert row is not None, ref["id"]
        for key in ("previous", "current", "change", "change.se", "df", "t", "pvalue",
                    "ci.lower", "ci.upper", "pvalue.adjusted"):
            assert row[key] == pytest.approx(ref[key], rel=1e-6, abs=1e-9), (ref["id"], key)
        assert row["significant"] == (ref["pvalue.adjusted"] < 0.05)
    # the planted change is found, and it is the only one
    assert list(result.changes.loc[result.changes["significant"], "id"]) == ["Satisfaction"]


def test_welch_difference_without_a_standard_error_tests_nothing() -> None:
    out = welch_difference(70.0, float("nan"), 1, 60.0, 1.0, 100)
    assert out["change"] == pytest.approx(10.0)
    assert all(pd.isna(out[k]) for k in ("change.se", "df", "pvalue", "ci.lower"))


def test_previous_file_is_checked(tmp_path: Path) -> None:
    from satisfaction.errors import UsageError

    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(UsageError, match="--previous"):
        load_previous(bad, "ecsi_bank")
    empty = tmp_path / "empty.json"
    empty.write_text('{"questionnaire": "ecsi_bank", "indices": null}', encoding="utf-8")
    with pytest.raises(UsageError, match="holds no satisfaction indices"):
        load_previous(empty, "ecsi_bank")
    other = tmp_path / "other.json"
    other.write_text('{"questionnaire": "cram", "indices": {"constructs": []}}',
                     encoding="utf-8")
    with pytest.raises(UsageError, match="another questionnaire"):
        load_previous(other, "ecsi_bank")
    with pytest.raises(UsageError, match="not found"):
        load_previous(tmp_path / "missing.json", "ecsi_bank")


@pytest.fixture(scope="module")
def two_waves(bank_csv: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Wave 1's report (its --json), then wave 2's report with --previous."""
    from satisfaction.pipeline import run
    from satisfaction.report.render import write_report

    folder = tmp_path_factory.mktemp("waves")
    first, second = _waves(bank_csv)
    first.to_csv(folder / "wave1.csv", index=False)
    second.to_csv(folder / "wave2.csv", index=False)
    questionnaire = QUESTIONNAIRES / "ecsi_bank.yaml"
    analysis = run(questionnaire, folder / "wave1.csv", bootstrap=0, seed=1)
    write_report(analysis, None, json=folder / "wave1.json")
    out = {name: folder / name for name in ("wave2.pdf", "wave2.html", "wave2.xlsx",
                                            "wave2.json")}
    code = main(["report", str(questionnaire), str(folder / "wave2.csv"), "--previous",
                 str(folder / "wave1.json"), "--bootstrap", "0", "--no-progress",
                 "--out", str(out["wave2.pdf"]), "--html", str(out["wave2.html"]),
                 "--excel", str(out["wave2.xlsx"]), "--json", str(out["wave2.json"])])
    assert code == 0
    return {"folder": folder, **out,
            "results": json.loads(out["wave2.json"].read_text(encoding="utf-8"))}


def test_report_shows_the_planted_change_and_no_other(two_waves: dict) -> None:
    changes = pd.DataFrame(two_waves["results"]["waves"]["changes"])
    significant = changes[changes["significant"]]
    assert list(significant["id"]) == ["Satisfaction"]
    sat = significant.iloc[0]
    assert sat["change"] > 5 and sat["ci.lower"] > 0 and sat["pvalue.adjusted"] < 0.001
    # the change is the difference of the two waves' indices in the results
    assert sat["change"] == pytest.approx(sat["current"] - sat["previous"])
    now = {r["construct"]: r for r in two_waves["results"]["indices"]["constructs"]}
    assert sat["current"] == pytest.approx(now["Satisfaction"]["index"])

    page = re.sub(r"\s+", " ", two_waves["wave2.html"].read_text(encoding="utf-8"))
    m = load_messages("en")
    assert m.waves.title in page
    rose = m.text("waves.rose", name="Satisfaction", change=f"{sat['change']:.1f}",
                  lower=f"+{sat['ci.lower']:.1f}", upper=f"+{sat['ci.upper']:.1f}",
                  previous=f"{sat['previous']:.1f}", current=f"{sat['current']:.1f}",
                  p="< 0.001")
    assert html.escape(rose, quote=True) in page
    for name in ("Image", "Expectations", "Perceived quality", "Perceived value", "Loyalty"):
        assert f"{name} rose by" not in page and f"{name} fell by" not in page
    # the index table carries the change, its interval and the Holm p-value
    assert html.escape(m.waves.column_ci) in page and m.waves.column_p in page
    assert f"+{sat['change']:.1f}" in page

    book = load_workbook(two_waves["wave2.xlsx"])
    summary = {row[0].value: [c.value for c in row]
               for row in book[m.workbook.summary].iter_rows(min_row=2)}
    row = summary[m.text("workbook.change", name="Satisfaction")]
    assert row[1:4] == pytest.approx([sat["change"], sat["ci.lower"], sat["ci.upper"]])
    assert summary[m.text("workbook.change_p", name="Satisfaction")][1] == pytest.approx(
        sat["pvalue.adjusted"])
    text = re.sub(r"\s+", "", "".join(p.extract_text() or "" for p in
                                      PdfReader(str(two_waves["wave2.pdf"])).pages))
    assert re.sub(r"\s+", "", m.waves.title) in text


def test_bad_previous_file_stops_before_the_analysis(bank_csv: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture) -> None:
    other = tmp_path / "other.json"
    other.write_text('{"questionnaire": "cram", "indices": {"constructs": []}}',
                     encoding="utf-8")
    out = tmp_path / "x.pdf"
    code = main(["report", str(QUESTIONNAIRES / "ecsi_bank.yaml"), str(bank_csv),
                 "--previous", str(other), "--out", str(out), "--no-progress"])
    assert code == 2
    err = capsys.readouterr().err
    assert "--previous" in err and "other.json" in err and "ecsi_bank" in err
    assert not out.exists()
