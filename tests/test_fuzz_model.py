"""Property-based fuzzing of the model-syntax reader and the fit (issue 15, point 9).

Whatever model text arrives — random characters, lines built from the syntax's
own pieces (operators, modifiers, ``c()``, ``:=``, ``==``, comments, repeats) —
:func:`satisfaction.model.fit` returns a result or raises one of our error types
(:class:`InputError` and its subclasses), never another exception, and a result
always carries a gate status and finite-or-missing numbers. Deterministic
(``derandomize=True``); ``SATISFACTION_FUZZ_EXAMPLES=2000`` for a long run.
"""

from __future__ import annotations

import math
import os
import warnings

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from satisfaction.errors import InputError
from satisfaction.model import fit

EXAMPLES = int(os.environ.get("SATISFACTION_FUZZ_EXAMPLES", "0"))
RNG = np.random.default_rng(7)
_F = RNG.normal(size=(120, 2))
DATA = pd.DataFrame({f"x{i}": _F[:, i % 2] * 0.8 + RNG.normal(scale=0.6, size=120)
                     for i in range(1, 7)})
DATA["g"] = np.where(np.arange(120) % 2 == 0, "a", "b")


def fuzz_settings(default: int) -> settings:
    return settings(max_examples=EXAMPLES or default, deadline=None, derandomize=True,
                    database=None, suppress_health_check=list(HealthCheck))


def check(model: str, **options) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            res = fit(model, DATA, **options)
        except InputError:
            return
    assert res.status in ("ok", "caution", "invalid")
    for key, value in res.fit_measures.items():
        assert value is None or isinstance(value, float | int), key
        assert not (isinstance(value, float) and math.isinf(value)), key
    res.to_dict()


NAMES = st.sampled_from(["x1", "x2", "x3", "x4", "x5", "x6", "f", "g2", "F", "y", "1", "",
                         "x1 ", "x_9"])
MODIFIERS = st.sampled_from(["", "a*", "b*", "NA*", "0*", "1*", "0.5*", "-2*", "c(a,b)*",
                             "c(1,NA)*", "c(a)*", "start(1)*", "1e400*", "nan*", "a*b*"])
OPERATORS = st.sampled_from(["=~", "~", "~~", ":=", "==", "<", ">", "|", "~*~", "=", "~ 1"])


@st.composite
def lines(draw) -> str:
    lhs = draw(NAMES)
    op = draw(OPERATORS)
    terms = draw(st.lists(st.tuples(MODIFIERS, NAMES), min_size=0, max_size=6))
    rhs = " + ".join(m + n for m, n in terms)
    tail = draw(st.sampled_from(["", " # note", " ; x1 ~~ x1", " +", "  "]))
    return f"{lhs} {op} {rhs}{tail}"


@given(st.lists(lines(), min_size=1, max_size=6))
@fuzz_settings(300)
def test_model_lines_built_from_the_syntax(model_lines: list[str]) -> None:
    text = "\n".join(model_lines)
    check(text)


@given(st.text(max_size=200))
@fuzz_settings(300)
def test_random_model_text(text: str) -> None:
    check(text if "\n" in text or "~" in text else text + "\n")


@given(st.lists(lines(), min_size=1, max_size=4))
@fuzz_settings(100)
def test_multigroup_and_fiml(model_lines: list[str]) -> None:
    text = "f =~ x1 + x2 + x3\n" + "\n".join(model_lines)
    check(text, group="g")
    check(text, missing="fiml")
