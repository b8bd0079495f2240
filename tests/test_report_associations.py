"""The segments chapter shows numeric group variables as correlations (issue 17).

``compare`` correlates every construct index with a numeric group variable without
bands (``CompareResult.associations``: Pearson r and Spearman ρ with intervals,
tested against R's ``cor.test`` in tests/test_compare.py); the report shows one
sentence per variable on the satisfaction index and a table of every index, in
English and Chinese, with the same numbers.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import yaml

from satisfaction.compare import compare, index_association
from satisfaction.drivers import construct_scores
from satisfaction.questionnaire import Questionnaire
from satisfaction.report.cells import fmt
from satisfaction.report.context import _Builder
from satisfaction.resources import QUESTIONNAIRES, TEMPLATES
from satisfaction.responses import load_responses

from .conftest import SHARED

BANK = SHARED / "bank_satisfaction.csv"


@pytest.fixture(scope="module")
def bank_age():
    spec = yaml.safe_load((QUESTIONNAIRES / "ecsi_bank.yaml").read_text(encoding="utf-8"))
    spec["groups"] = [*spec.get("groups", []),
                      {"id": "age", "type": "numeric",
                       "name": {"en": "Age", "zh": "年龄"}}]
    q = Questionnaire.from_dict(spec)
    frame = pd.read_csv(BANK, dtype={"respondent": str})
    # an age that rises with satisfaction plus a spread, so the correlation is positive
    sat = frame[["sat1", "sat2", "sat3", "sat4"]].mean(axis=1)
    frame["age"] = (20 + 4 * sat + (np.arange(len(frame)) * 7) % 23).round()
    data = load_responses(q, frame).data
    cmp = compare(q, data, by=["age", "gender"])
    return q, data, cmp


def _groups(q, cmp, lang):
    analysis = SimpleNamespace(questionnaire=q, compare=cmp, satisfaction="Satisfaction",
                               loyalty="Loyalty")
    return _Builder(analysis, lang).groups()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_numeric_group_correlations_are_shown(bank_age, lang):
    q, data, cmp = bank_age
    groups = _groups(q, cmp, lang)
    assoc = groups["associations"]
    assert assoc is not None and assoc["variables"] == ["age"]
    # the sentence carries the satisfaction index's Pearson and Spearman estimates,
    # computed again here from the indices (index_association = R's cor.test)
    scores = construct_scores(q, data)
    pearson = index_association(scores["Satisfaction"], data["age"], "pearson")
    spearman = index_association(scores["Satisfaction"], data["age"], "spearman")
    assert pearson["estimate"] > 0.3
    (sentence,) = assoc["sentences"]
    for value in (pearson["estimate"], pearson["ci.lower"], pearson["ci.upper"],
                  spearman["estimate"], spearman["ci.lower"], spearman["ci.upper"]):
        assert fmt(value, 2) in sentence
    name = {"en": "Age", "zh": "年龄"}[lang]
    assert name in sentence and q.construct("Satisfaction").name.get(lang) in sentence
    assert name in groups["intro"]
    # the table: every index once, its cells the comparison's rows
    table = assoc["table"]
    assert len(table.rows) == len(scores.columns)
    rows = cmp.associations
    for row, construct in zip(table.rows, scores.columns, strict=True):
        assert row[0].text == q.construct(construct).name.get(lang)
        p = rows[(rows["construct"] == construct) & (rows["method"] == "pearson")].iloc[0]
        s = rows[(rows["construct"] == construct) & (rows["method"] == "spearman")].iloc[0]
        assert row[2].raw == pytest.approx(p["estimate"], abs=1e-12)
        assert row[4].raw == pytest.approx(s["estimate"], abs=1e-12)
        assert row[3].text == f"[{fmt(p['ci.lower'])}, {fmt(p['ci.upper'])}]"
        assert row[5].text == f"[{fmt(s['ci.lower'])}, {fmt(s['ci.upper'])}]"
        assert row[6].raw == int(p["n"])
        assert row[7].raw == pytest.approx(p["pvalue.adjusted"], abs=1e-15)
    # the categorical group is still tested, the numeric one is not
    assert "age" not in {r[1].text for r in groups["table"].rows} - {name}
    assert all(r[1].text != name for r in groups["table"].rows)


def test_no_associations_without_a_numeric_group(bank_age):
    q, data, _ = bank_age
    cmp = compare(q, data, by=["gender"])
    assert _groups(q, cmp, "en")["associations"] is None


def test_template_shows_the_associations():
    text = (TEMPLATES / "report.html.j2").read_text(encoding="utf-8")
    block = text[text.index("{%- if groups.associations %}"):]
    block = block[:block.index("{%- endif %}")]
    assert "groups.associations.sentences" in block and "groups.associations.table" in block
