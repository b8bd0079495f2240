"""Fuzzing the transaction loader (issue 15): random files of random cells.

Cells are drawn from what real and hostile files hold: dates in every layout the
loader reads and many it does not (years 1 to 9999, impossible days, Excel serials,
formulas), amounts with currency signs, separators, exponents up to 1e308 and past
it, ``inf`` and ``nan``, formulas (``=1+1``, ``@SUM(A1)``), ids with quotes, commas,
line breaks, tabs and markup, blanks and the texts read as blank; files in UTF-8
(with and without a byte-order mark), UTF-16 and GB18030, comma, semicolon or tab
separated, some with a column missing or extra columns, some with broken quoting.

Whatever the file, :func:`load_transactions` returns transactions or raises one of
our errors (:class:`~satisfaction.errors.InputError` and its subclasses), never
another exception; and when it returns:

* ``loaded == kept + Σ excluded`` and the problem list has one row per excluded row
  (``max_problems=None``), in file order, each under a reason of :data:`REASONS`;
* every kept amount is finite and below :data:`MAX_AMOUNT`, every kept date within
  ``[earliest, today]``;
* the customer table and the RFM / ABC / lifecycle stages run on them, or refuse
  with one of our errors.

The ``rfm`` command on such files exits 0 or 2 with no traceback.

Examples per run: ``SATISFACTION_FUZZ_EXAMPLES`` (default 100, and an eighth of it
for the command: about 25 s on two shared cores);
a hand run of 2,000 or more is recorded in the commit that changes the loader.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import math
import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from satisfaction.cli import main
from satisfaction.errors import InputError
from satisfaction.value.pipeline import value_analysis
from satisfaction.value.transactions import (
    EARLIEST_DATE,
    MAX_AMOUNT,
    REASONS,
    TransactionColumns,
    load_transactions,
)

EXAMPLES = int(os.environ.get("SATISFACTION_FUZZ_EXAMPLES", "100"))
TODAY = dt.date(2025, 1, 1)
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

HOSTILE = ["", " ", "NA", "n/a", "null", "-", "#N/A", "nan", "NaN", "None", "=1+1",
           "+5", "-3", "@SUM(A1)", "=HYPERLINK(\"http://x\"&A1)", "=cmd|' /C calc'!A1",
           "\t=1", "\r=1", "[/bold]", "[red]x", "\x00", "\u200b", "\ufeff", '"', "'",
           ",", ";", "\n", "a\nb", "1,2", "０", "١٢", "𝟙"]

LAYOUTS = ["%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S",
           "%d/%m/%Y", "%m/%d/%y", "%d.%m.%Y", "%Y-%m-%d %H:%M", "%b %d %Y"]

dates = st.one_of(
    st.tuples(st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31)), st.sampled_from(LAYOUTS))
    .map(lambda d: d[0].strftime(d[1]) if d[0].year >= 1000 else d[0].isoformat()),
    st.dates(dt.date(2020, 1, 1), dt.date(2026, 12, 31)).map(str),
    st.sampled_from(["0001-01-01", "0000-00-00", "1899-12-31", "1900-01-01", "9999-12-31",
                     "2024-02-30", "2024-13-01", "20241301", "2024-1-1", "45292", "-2024-01-01",
                     "2024-01-01T25:00:00", "2024-01-01 12:00:00+08:00", "=TODAY()",
                     "NaT", "1e5", "99999-01-01", "2024-01-01\x00"]),
    st.integers(-10**12, 10**12).map(str),
    st.sampled_from(HOSTILE),
    st.text(max_size=12),
)

amounts = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.floats(-1e7, 1e7).map(lambda v: f"{v:.2f}"),
    st.floats(-1e18, 1e18).map(lambda v: f"{v:,.2f}"),
    st.integers(-10**40, 10**40).map(str),
    st.tuples(st.sampled_from(["¥", "$ ", "€", "USD ", "CNY", "￥", "₩"]),
              st.floats(0, 1e6)).map(lambda t: f"{t[0]}{t[1]:,.2f}"),
    st.sampled_from(["1e32", "-1e32", "1e308", "1e309", "-1e309", "1E15", "999999999999999",
                     "1000000000000000", "inf", "-inf", "Infinity", "(4)", "12,5", "1.234,56",
                     "1 234", "0x10", "1_000", "--5", "+-1", ".5", "5.", "1e", "e5"]),
    st.sampled_from(HOSTILE),
    st.text(max_size=10),
)

ids = st.one_of(st.sampled_from(["c1", "c2", "客户3", " c4 ", "c,5", 'c"6', "007", "7"]),
                st.sampled_from(HOSTILE), st.text(max_size=8), st.integers(-5, 10**20).map(str))

clean = st.tuples(st.sampled_from([f"c{i}" for i in range(8)]),
                  st.dates(dt.date(2020, 1, 1), dt.date(2024, 12, 31)).map(str),
                  st.floats(0, 1e4).map(lambda v: f"{v:.2f}"),
                  st.floats(0, 100).map(lambda v: f"{v:.2f}"))


@st.composite
def one_bad_cell(draw: st.DrawFn) -> tuple[str, ...]:
    """A clean row with one cell replaced by a hostile one."""
    row = list(draw(clean))
    k = draw(st.integers(0, 3))
    row[k] = draw((ids, dates, amounts, amounts)[k])
    return tuple(row)


row = st.one_of(clean, one_bad_cell(), st.tuples(ids, dates, amounts, amounts))
rows = st.lists(row, min_size=0, max_size=25)


@st.composite
def files(draw: st.DrawFn) -> dict:
    """A transactions file: its bytes, the columns to ask for, and loader options."""
    body = draw(rows)
    if body and draw(st.booleans()):  # repeat some rows: exact duplicates
        body += draw(st.lists(st.sampled_from(body), max_size=4))
    header = ["customer_id", "date", "amount", "cost"]
    shape = draw(st.sampled_from(["plain", "plain", "plain", "no_cost", "missing_column",
                                  "extra", "raw", "ragged"]))
    sep = draw(st.sampled_from([",", ",", ";", "\t"]))
    buf = io.StringIO()
    if shape == "raw":  # the body as one unquoted text: broken quoting, NULs, anything
        text = sep.join(header) + "\n" + draw(st.text(max_size=200))
    else:
        writer = csv.writer(buf, delimiter=sep, lineterminator=draw(
            st.sampled_from(["\n", "\r\n"])))
        if shape == "no_cost":
            header, body = header[:3], [r[:3] for r in body]
        elif shape == "missing_column":
            header, body = header[1:], [r[1:] for r in body]
        elif shape == "extra":
            header = [*header, "note", "amount"]  # a second 'amount' column too
            body = [(*r, "x", "1") for r in body]
        writer.writerow(header)
        for r in body:
            if shape == "ragged":
                r = r[: draw(st.integers(0, len(r)))]
            writer.writerow(r)
        text = buf.getvalue()
        if draw(st.booleans()):
            text += "\n" * draw(st.integers(0, 3))  # trailing blank lines
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8", "utf-8-sig", "utf-16",
                                     "utf-16-le", "gb18030"]))
    data = text.encode(encoding, errors="replace")
    use_cost = "cost" in header and draw(st.booleans())
    return {
        "data": data,
        "rows": len(body),
        "columns": TransactionColumns(cost="cost" if use_cost else None),
        "returns": draw(st.sampled_from(["net", "exclude"])),
        "duplicates": draw(st.sampled_from(["exclude", "keep"])),
        "date_format": draw(st.sampled_from([None] * 8 + ["%d/%m/%Y", "%Y%m%d"])),
        "suffix": draw(st.sampled_from([".csv", ".csv", ".txt"])),
    }


def check_loaded(tx) -> None:
    """The invariants of a loaded transactions object."""
    log = tx.log
    assert list(log.excluded) == list(REASONS)
    assert all(n >= 0 for n in log.excluded.values())
    assert log.loaded == log.kept + sum(log.excluded.values())
    assert len(log.problems) == sum(log.excluded.values())
    assert set(log.problems["rule"]) <= set(REASONS)
    assert log.problems["row"].is_monotonic_increasing and log.problems["row"].is_unique
    for reason, n in log.excluded.items():
        assert int((log.problems["rule"] == reason).sum()) == n
    frame = tx.to_frame()
    assert len(frame) == log.kept
    if log.kept:
        assert all(math.isfinite(a) and abs(a) < MAX_AMOUNT for a in frame["amount"])
        margins = frame["margin"].dropna()
        assert all(math.isfinite(m) and abs(m) < MAX_AMOUNT for m in margins)
        days = [d.date() if hasattr(d, "date") else d for d in frame["date"]]
        assert all(EARLIEST_DATE <= d <= TODAY for d in days)
        assert frame["customer_id"].notna().all()


def load_and_analyse(case: dict, folder: Path) -> None:
    path = folder / f"tx{case['suffix']}"
    path.write_bytes(case["data"])
    try:
        tx = load_transactions(path, case["columns"], returns=case["returns"], today=TODAY,
                               duplicates=case["duplicates"], date_format=case["date_format"],
                               max_problems=None)
    except InputError as exc:
        assert str(exc) and "Traceback" not in str(exc)
        event(f"load refused: {exc.message.split(':')[0][:40]}")
        return
    check_loaded(tx)
    event(f"loaded, kept {'none' if tx.log.kept == 0 else 'some'}, excluded "
          f"{'none' if tx.log.kept == tx.log.loaded else 'some'}")
    try:
        result = value_analysis(tx, models=())
    except InputError as exc:
        assert str(exc)
        event("analysis refused")
        return
    event("analysed")
    assert len(result.customers) == result.counts["modelled"]
    d = result.to_dict()
    assert len(d["problems"]) == sum(d["excluded"].values()) and d["problems_complete"]


@FUZZ
@given(case=files())
def test_random_transaction_files_load_or_refuse_cleanly(case):
    with tempfile.TemporaryDirectory() as tmp:
        load_and_analyse(case, Path(tmp))


@settings(FUZZ, max_examples=max(10, EXAMPLES // 8))
@given(case=files())
def test_rfm_command_on_random_files_exits_0_or_2(case):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"tx{case['suffix']}"
        path.write_bytes(case["data"])
        args = ["rfm", str(path), "--today", TODAY.isoformat(), "--json",
                str(Path(tmp) / "r.json"), "--returns", case["returns"]]
        if case["columns"].cost:
            args += ["--cost-col", "cost"]
        if case["date_format"]:
            args += ["--date-format", case["date_format"]]
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(args)
        assert code in (0, 2), err.getvalue()
        assert "Traceback" not in err.getvalue() + out.getvalue()
        assert (code == 0) == (Path(tmp) / "r.json").exists()
