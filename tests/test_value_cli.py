"""The ``rfm`` and ``clv`` commands: CSV and JSON contracts, errors, determinism."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from satisfaction.cli import main
from satisfaction.value.pipeline import CSV_COLUMNS

DATA = Path(__file__).parent / "data" / "cdnow_sample.csv"


@pytest.fixture(scope="module")
def clv_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("clv")
    args = ["clv", str(DATA), "--period-end", "1997-09-30", "--time-unit", "week",
            "--horizon", "39", "--keep-duplicates", "--out", str(out / "c.csv"),
            "--json", str(out / "c.json")]
    assert main(args) == 0
    return out, args


def test_clv_json_contract(clv_run):
    out, _ = clv_run
    d = json.loads((out / "c.json").read_text())
    assert d["customers"] == 2357 and d["transactions"] == 6919
    assert set(d["excluded"]) >= {"missing_id", "unparseable_date", "duplicate"}
    m = d["models"]
    assert set(m["bgnbd"]) >= {"r", "alpha", "a", "b", "loglik"}
    assert set(m["pareto_nbd"]) >= {"r", "alpha", "s", "beta", "loglik"}
    assert set(m["gamma_gamma"]) >= {"p", "q", "v"}
    assert m["bgnbd"]["r"] == pytest.approx(0.243, rel=0.005)
    assert d["holdout"]["actual_total"] == 1882
    assert d["holdout"]["length"] == pytest.approx(273 / 7)
    # warnings are records (code, severity, message, params): one per exclusion reason
    assert d["status"] == "ok"
    excluded = {w["params"]["reason"]: w for w in d["warnings"]
                if w["code"] == "transactions_excluded"}
    assert {k: w["params"]["n"] for k, w in excluded.items()} == \
        {k: v for k, v in d["excluded"].items() if v}
    assert all(w["severity"] == "info" and w["message"] for w in excluded.values())
    for name in ("bgnbd", "pareto_nbd", "gamma_gamma"):
        assert m[name]["status"] == "ok" and m[name]["warnings"] == []


def test_clv_csv_columns(clv_run):
    out, _ = clv_run
    frame = pd.read_csv(out / "c.csv", dtype={"customer_id": str})
    assert tuple(frame.columns) == CSV_COLUMNS
    assert len(frame) == 2357 and frame["customer_id"].is_unique
    assert frame["p_alive"].between(0, 1).all()
    assert (frame["clv"] >= 0).all()
    assert set(frame["abc_class"]) == {"A", "B", "C"}


def test_clv_json_is_byte_identical_on_rerun(clv_run, tmp_path):
    out, args = clv_run
    again = [a if not a.endswith(("c.json", "c.csv")) else str(tmp_path / Path(a).name)
             for a in args]
    assert main(again) == 0
    assert (tmp_path / "c.json").read_bytes() == (out / "c.json").read_bytes()
    assert (tmp_path / "c.csv").read_bytes() == (out / "c.csv").read_bytes()


def test_rfm_command(tmp_path):
    assert main(["rfm", str(DATA), "--out", str(tmp_path / "r.csv"),
                 "--json", str(tmp_path / "r.json")]) == 0
    d = json.loads((tmp_path / "r.json").read_text())
    assert d["excluded"]["duplicate"] == 21
    assert d["transactions_loaded"] == d["transactions"] + sum(d["excluded"].values())
    assert sum(g["customers"] for g in d["rfm"]["value_groups"]) == d["customers"]
    assert [(w["code"], w["params"]) for w in d["warnings"]] == [
        ("transactions_excluded", {"n": n, "reason": k}) for k, n in d["excluded"].items() if n]
    assert any(w["message"] == "21 transactions excluded: duplicate row" for w in d["warnings"])
    frame = pd.read_csv(tmp_path / "r.csv")
    assert tuple(frame.columns) == CSV_COLUMNS


def test_bad_input_exit_2_and_no_output(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("id,when,amount\n1,2024-01-01,3\n", encoding="utf-8")
    out = tmp_path / "o.csv"
    assert main(["clv", str(bad), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "bad.csv" in err and "customer_id" in err and "Traceback" not in err
    assert not out.exists()
    assert main(["clv", str(DATA), "--time-unit", "year"]) == 2
    assert main(["rfm", str(tmp_path / "missing.csv")]) == 2


def test_configurable_columns_and_margin(tmp_path):
    src = tmp_path / "t.csv"
    src.write_text("cust,day,spend,cost\n"
                   + "".join(f"{c},2024-0{m}-1{c},{10 * m},{4 * m}\n"
                             for c in range(1, 6) for m in range(1, 6)),
                   encoding="utf-8")
    assert main(["rfm", str(src), "--customer-col", "cust", "--date-col", "day",
                 "--amount-col", "spend", "--cost-col", "cost", "--today", "2025-01-01",
                 "--json", str(tmp_path / "o.json")]) == 0
    d = json.loads((tmp_path / "o.json").read_text())
    assert d["customers"] == 5 and d["transactions"] == 25 and d["settings"]["margin"]


def test_models_option(tmp_path):
    assert main(["clv", str(DATA), "--period-end", "1997-09-30", "--keep-duplicates",
                 "--models", "bgnbd,gamma_gamma", "--json", str(tmp_path / "m.json")]) == 0
    d = json.loads((tmp_path / "m.json").read_text())
    assert set(d["models"]) == {"bgnbd", "gamma_gamma"}
    assert main(["clv", str(DATA), "--models", "spline"]) == 2


def test_csv_written_in_slices_equals_one_write(tmp_path, monkeypatch):
    """The per-customer CSV formatted in parallel slices is byte-identical to Arrow's
    single write of the whole table (and to the pandas reading of it)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from satisfaction.value import pipeline
    from satisfaction.value.transactions import load_transactions

    tx = load_transactions(DATA, today="2000-01-01", duplicates="keep")
    result = pipeline.value_analysis(tx, period_end="1997-09-30", models=("bgnbd", "gamma_gamma"))
    monkeypatch.setattr(pipeline, "CSV_SLICE_ROWS", 500)
    result.write_csv(tmp_path / "sliced.csv")
    whole = pa.Table.from_pandas(result.csv_frame(), preserve_index=False)
    pacsv.write_csv(whole, tmp_path / "whole.csv")
    assert (tmp_path / "sliced.csv").read_bytes() == (tmp_path / "whole.csv").read_bytes()
    back = pd.read_csv(tmp_path / "sliced.csv", dtype={"customer_id": str})
    assert len(back) == len(result.customers) == 2357


def test_date_format_option(tmp_path, capsys):
    """--date-format reads day-first dates, which the default formats exclude (and
    the error when nothing is left says so, naming the first bad cell)."""
    path = tmp_path / "dmy.csv"
    path.write_text("customer_id,date,amount\na,31/01/2024,10\na,15/02/2024,5\nb,01/03/2024,7\n",
                    encoding="utf-8")
    default = tmp_path / "default.json"   # 31/01/2024 is no ISO date: nothing is kept
    assert main(["rfm", str(path), "--today", "2025-01-01", "--json", str(default)]) == 2
    assert not default.exists()
    err = capsys.readouterr().err
    assert "row 2, column 'date'" in err and "31/01/2024" in err
    assert "all 3 rows were excluded (unparseable date 3)" in err and "--date-format" in err
    given = tmp_path / "given.json"
    assert main(["rfm", str(path), "--today", "2025-01-01", "--date-format", "%d/%m/%Y",
                 "--json", str(given)]) == 0
    d = json.loads(given.read_text())
    assert d["transactions"] == 3 and d["customers"] == 2
    assert d["excluded"]["unparseable_date"] == 0


def test_spreadsheet_safe_equals_the_rule_cell_by_cell():
    """The per-customer CSV's safety pass (a vectorised pre-test, then the OWASP rule
    on the cells that begin with a formula character) equals the rule applied to
    every cell: text, categorical, mixed object columns, numbers and missing cells."""
    import numpy as np
    import pandas as pd

    from satisfaction.io import spreadsheet_safe, spreadsheet_text

    n = 500
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({
        "id": pd.Series(rng.choice(["=HYPERLINK(1)", "+1", "-2.5", "@a", "\tx", "ok", "-x"],
                                   n)).astype(str),
        "segment": pd.Categorical(rng.choice(["Champions", "=bad", "At risk"], n)),
        "mixed": pd.Series([-5, "=x", None, "-2", 3.0] * (n // 5), dtype=object),
        "value": rng.normal(size=n)})
    safe = spreadsheet_safe(frame)
    for column in ("id", "segment", "mixed"):
        expect = [spreadsheet_text(v) for v in frame[column].astype(object)]
        got = list(safe[column])
        assert [str(v) for v in got] == [str(v) for v in expect]
    assert safe.loc[frame["id"] == "=HYPERLINK(1)", "id"].eq("'=HYPERLINK(1)").all()
    assert safe.loc[frame["id"] == "-2.5", "id"].eq("-2.5").all()  # a number stays
    pd.testing.assert_series_equal(safe["value"], frame["value"])


def test_holdout_printed_by_calibration_frequency(tmp_path, capsys):
    """With a holdout period the command prints the check by calibration repeat
    purchases (FHL 2005a, figure 4), the same rows as --json's by_frequency; on the
    CDNOW sample's 39-week split, the 1,882 holdout repeat purchases of FHL 2005a."""
    out = tmp_path / "h.json"
    assert main(["clv", str(DATA), "--period-end", "1997-09-30", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "actual repeat purchases 1882" in text
    assert "Holdout check by calibration repeat purchases" in text
    rows = json.loads(out.read_text())["holdout"]["by_frequency"]
    assert [r["frequency"] for r in rows] == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    for r in rows:
        line = f"│ {r['frequency']:>16} │ {r['customers']:>9} │ {r['actual']:>6.3f} │ " \
               f"{r['predicted']:>9.3f} │"
        assert line in text, line
    assert sum(r["customers"] for r in rows) == 2357
