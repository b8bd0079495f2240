"""Property-based tests: malformed transaction files give clean errors or clean data,
with counts that add up, and every row lands where an independent Python oracle says."""

from __future__ import annotations

import csv
import datetime as dt
import io
import tempfile
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from satisfaction.errors import InputError
from satisfaction.value.customers import customer_table
from satisfaction.value.transactions import (
    MAX_AMOUNT,
    MISSING_TEXTS,
    REASONS,
    load_transactions,
    parse_amount,
)

TODAY = dt.date(2025, 1, 1)
FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d")

ids = st.sampled_from(["c1", "c2", "客户3", " c4 ", "", "  ", "NA", "c,5", 'c"6'])
dates = st.one_of(
    st.dates(dt.date(1990, 1, 1), dt.date(2030, 12, 31)).flatmap(
        lambda d: st.sampled_from([d.strftime(f) for f in FORMATS])),
    st.sampled_from(["", "abc", "2024-02-30", "31/12/2024", "2024-13-01", "n/a", "  "]),
)
amounts = st.one_of(
    st.floats(-1e6, 1e6, allow_nan=False).map(lambda v: f"{v:.2f}"),
    st.integers(0, 10**7).map(lambda v: f"¥{v:,}.50"),
    st.integers(0, 10**5).map(lambda v: f"$ {v}"),
    st.sampled_from(["", "abc", "1,23", "--5", "1e3", "NaN", "inf", "12,5", "€ 3", "(4)"]),
)
row = st.tuples(ids, dates, amounts)


def oracle(rows: list[tuple[str, str, str]], returns: str) -> list[str | None]:
    """The reason each row should get (None: kept), written without SQL."""
    seen: set[tuple[str, str, str]] = set()
    out: list[str | None] = []
    for cid, date, amount in rows:
        duplicate = (cid, date, amount) in seen
        seen.add((cid, date, amount))
        parsed = None
        for f in FORMATS:
            try:
                parsed = dt.datetime.strptime(date.strip(), f).date()
                break
            except ValueError:
                continue
        value = parse_amount(amount)
        if cid.strip().lower() in MISSING_TEXTS:
            out.append("missing_id")
        elif date.strip().lower() in MISSING_TEXTS:
            out.append("missing_date")
        elif parsed is None:
            out.append("unparseable_date")
        elif parsed > TODAY:
            out.append("future_date")
        elif amount.strip().lower() in MISSING_TEXTS:
            out.append("missing_amount")
        elif value is None:
            out.append("unparseable_amount")
        elif abs(value) >= MAX_AMOUNT:
            out.append("amount_too_large")
        elif returns == "exclude" and value < 0:
            out.append("negative_amount")
        elif duplicate:
            out.append("duplicate")
        else:
            out.append(None)
    return out


def write_csv(rows: list[tuple[str, str, str]], path: Path) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["customer_id", "date", "amount"])
    writer.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(row, min_size=1, max_size=25).flatmap(
    lambda rs: st.lists(st.sampled_from(rs), min_size=0, max_size=5).map(lambda d: rs + d)),
    returns=st.sampled_from(["net", "exclude"]))
def test_messy_csv_rows_are_kept_or_counted(rows, returns):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "tx.csv"
        write_csv(rows, path)
        tx = load_transactions(path, today=TODAY, returns=returns, max_problems=1000)
    log = tx.log
    assert log.loaded == len(rows)
    assert log.kept + sum(log.excluded.values()) == log.loaded
    assert set(log.excluded) == set(REASONS)
    expect = oracle(rows, returns)
    got = {int(r): rule for r, rule in zip(log.problems["row"], log.problems["rule"],
                                           strict=True)}
    assert got == {i + 2: r for i, r in enumerate(expect) if r is not None}
    kept = tx.to_frame()
    want = [parse_amount(a) for (_, _, a), r in zip(rows, expect, strict=True) if r is None]
    assert kept["amount"].tolist() == want
    if returns == "net":
        assert log.notes["returns_netted"] == sum(1 for v in want if v < 0)
    if len(kept):
        table = customer_table(tx, period_end=TODAY).data
        assert int(table["transactions"].sum()) == len(kept)
        assert abs(float(table["revenue"].sum()) - sum(want)) < 1e-6 * (1 + sum(map(abs, want)))


@settings(max_examples=40, deadline=None)
@given(cells=st.lists(st.one_of(st.none(), st.integers(-5, 5), st.floats(allow_nan=True),
                                st.text(max_size=6)), min_size=1, max_size=12))
@example(cells=["0\x85", "\u3000¥1,234.50 ", "1\x0b"])  # spaces DuckDB's trim and RE2's \s keep
def test_dataframe_with_mixed_cells(cells):
    frame = pd.DataFrame({"customer_id": [f"c{i % 3}" for i in range(len(cells))],
                          "date": ["2024-05-01"] * len(cells), "amount": cells})
    tx = load_transactions(frame, today=TODAY, duplicates="keep")
    assert tx.log.loaded == len(cells)
    assert tx.log.kept + sum(tx.log.excluded.values()) == len(cells)
    want = [parse_amount(c) for c in cells]
    assert tx.to_frame()["amount"].tolist() == [v for v in want
                                                 if v is not None and abs(v) < MAX_AMOUNT]
    assert tx.log.excluded["amount_too_large"] == sum(
        1 for v in want if v is not None and abs(v) >= MAX_AMOUNT)


@settings(max_examples=40, deadline=None)
@given(text=st.text(alphabet=st.sampled_from(list('ab,;"\n\t 1-¥.')), max_size=60))
def test_arbitrary_bytes_give_input_error_or_data(text):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "tx.csv"
        path.write_text("customer_id,date,amount\n" + text, encoding="utf-8")
        try:
            tx = load_transactions(path, today=TODAY)
        except InputError as exc:
            assert str(exc)
            return
    assert tx.log.kept + sum(tx.log.excluded.values()) == tx.log.loaded
