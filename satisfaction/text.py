"""Open-ended answers as themes: what respondents write about, and what the
dissatisfied write about more often than the satisfied.

Method
------
1. **Terms.** Each answer is normalised (Unicode NFKC, lower case) and cut into
   phrases at punctuation. English runs are split into words (``didn't`` counts
   as the negation ``not``; ``staff's`` as ``staff``); Chinese runs are segmented
   with jieba (a maintained segmenter; we do not write our own). Stop words are
   removed: English from scikit-learn's ``ENGLISH_STOP_WORDS`` (the negations
   kept), Chinese from the short list of function words :data:`ZH_STOP_WORDS`.
   A term is a remaining word, or a *phrase*: two adjacent words of one phrase
   of the answer, neither a stop word (the first may be a negation: ``not
   friendly``, ``不 热情``). English phrase words are joined by a space, Chinese
   ones without (``等待`` + ``时间`` = ``等待时间``). A term is counted once per
   answer (a *mention*).
2. **Split.** From the satisfaction index (0-100) of all respondents with one:
   *dissatisfied* = index at or below its lower tertile, *satisfied* = at or
   above its upper tertile (``share`` = 1/3); ties at a cut-point join that
   group. Only respondents who answered the question enter the contrast.
3. **Statistic.** The log-odds ratio with an informative Dirichlet prior of
   Monroe, Colaresi & Quinn (2008, "Fightin' words", *Political Analysis* 16,
   372-403, section 3.5), on mentions. With ``y_w^d``, ``y_w^s`` the mentions of
   term ``w`` among the dissatisfied and the satisfied, ``n^d = Σ_w y_w^d`` and
   ``n^s`` their totals, and the prior ``α_w = α_0 · y_w / n`` (``y_w`` the
   mentions of ``w`` in all answers, ``n`` their total, ``α_0`` =
   ``prior_size``)::

       δ_w = ln[(y_w^d + α_w) / (n^d + α_0 − y_w^d − α_w)]
             − ln[(y_w^s + α_w) / (n^s + α_0 − y_w^s − α_w)]
       Var(δ_w) ≈ 1 / (y_w^d + α_w) + 1 / (y_w^s + α_w),   z_w = δ_w / √Var(δ_w)

   ``δ_w > 0``: mentioned relatively more by the dissatisfied. A term is a theme
   of a side when it has at least ``min_count`` mentions and ``|z_w| ≥ z_min``
   (1.96; a screening cut-off, not a test corrected for the number of terms,
   which the result reports). The prior shrinks the log-odds of rare terms
   towards 0; with hundreds of mentions per group it matters little.
4. **Themes.** Per side the ``top`` terms by ``|z|``, and the ``top`` most
   mentioned terms overall. A word whose mentions are at least 80 % inside one
   listed phrase (``waiting`` in ``waiting time``) is not listed again on its
   own, and a term at least 80 % of whose answers hold a theme already listed on
   that side is folded into it (shown as *related*: ``fast`` and ``fast delivery``
   under ``delivery``). Each theme has up to ``examples`` verbatims: answers of
   that side holding the term, those without markup or formula characters first,
   then those holding more of the theme's terms, then those of typical length
   (closest to the median length) (:func:`representative_answers`).
5. **Weights.** With respondent weights ``w_i`` every share is a weighted share
   (``Σ w_i m_i / Σ w_i`` over the answers of the group: R's ``svymean`` on the
   domain), the log-odds takes Kish effective mentions in place of the counts
   (:func:`kish_counts`: the weighted share times the group's effective size
   ``(Σw)² / Σw²``; equal weights give the counts), and each term also carries
   the design-based difference of the two weighted shares with its linearisation
   standard error (:func:`share_difference`). The cut-points of the split are the
   weighted tertiles of the index (survey's ``qrule = "hf7"``). Tested against R's survey package
   (tests/reference/text_weights_survey.R).

Markup is not the respondent's words: HTML tags with their attributes (and the
content of script and style elements), URLs, spreadsheet function calls, DDE
links and cell references are removed before the terms are cut
(:func:`strip_markup`); single Chinese characters that carry no theme (``多``,
``中``) are stop words.

The statistic is tested against a hand computation on a bilingual set of
comments with planted themes (``tests/test_text.py``,
``tests/data/comments_bilingual.csv``).

Verbatims are returned as the respondents wrote them; wherever they are shown
(HTML report, workbook) they are plain text: markup is escaped, formula-like
cells are stored as text.
"""

from __future__ import annotations

import html
import logging
import math
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from satisfaction.diagnostics import Diagnostic

#: Words that turn the next word round; kept as the first word of a phrase.
EN_NEGATIONS: frozenset[str] = frozenset({"not", "no", "never", "nothing", "nor", "cannot"})
ZH_NEGATIONS: frozenset[str] = frozenset({"不", "没", "没有", "无", "别", "未", "不是", "不够"})

#: Chinese function words left out of the terms (written for this module: pronouns,
#: particles, conjunctions, degree adverbs and the copula).
_ZH_STOP_TEXT = (
    "的 了 是 我 我们 你 你们 他 她 它 他们 这 那 这个 那个 这些 那些 这里 那里 在 和 与 及 "
    "以及 或 或者 也 都 就 还 又 再 很 太 非常 比较 特别 真 真的 有点 有些 一点 一些 一个 "
    "一直 每次 吗 吧 呢 啊 呀 哦 嗯 么 着 过 被 把 让 给 对 从 到 向 为 为了 因为 所以 "
    "但 但是 可是 而且 并且 如果 虽然 还是 就是 只是 而 其 之 等 有 会 能 要 想 说 觉得 "
    "感觉 认为 时候 所有 什么 怎么 这么 那么 自己 大家 已经 总是 挺 蛮 更 最 啦 哈 人 个 次")
#: Single characters that say nothing on their own as a term (particles, place and
#: degree words, measure words: ``多``, ``中``); a word of two or more characters
#: holding them (``多次``, ``中心``) is kept.
_ZH_STOP_SINGLE = ("多 少 中 上 下 里 内 外 前 后 时 来 去 得 地 所 以 于 将 已 才 只 该 各 "
                   "每 某 并 且 则 即 却 比 们 样 点 些 儿 种 件 位")
ZH_STOP_WORDS: frozenset[str] = frozenset((_ZH_STOP_TEXT + " " + _ZH_STOP_SINGLE).split())

#: Letters of the CJK Unified Ideographs (and extension A): Chinese runs.
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+")
#: Phrase boundaries: anything that is neither a word character, a space nor an
#: apostrophe (``\w`` covers CJK ideographs).
_BOUNDARY = re.compile(r"[^\w\s'’]+|_+")
_EN_WORD = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")

#: What an answer may hold that is not what the respondent says (removed before the
#: terms are cut, never from the verbatims): script and style elements with their
#: content, HTML tags with their attributes, URLs, spreadsheet function calls
#: (``=HYPERLINK(``, ``SUM(``: a name in capitals before a parenthesis), DDE links
#: (``cmd|'/C calc'!A0``) and cell references after ``!``.
_MARKUP = (
    re.compile(r"<\s*(script|style)\b[^>]*>.*?(?:<\s*/\s*\1\s*>|$)", re.IGNORECASE | re.DOTALL),
    re.compile(r"<\s*/?\s*[a-zA-Z!?][^<>]*(?:>|$)"),
    re.compile(r"""(?:\b(?:https?|ftp|file|javascript|data|mailto):|\bwww\.)[^\s"'<>]*""",
               re.IGNORECASE),
    re.compile(r"\b[A-Z][A-Z0-9.]*\s*\("),
    re.compile(r"[\w.]*\|(?:'[^']*'|\S)*"),
    re.compile(r"![A-Za-z$]+\$?\d+"),
)
#: A function call in any case (``=hyperlink(``), removed from answers written as
#: a formula.
_FORMULA_CALL = re.compile(r"\b[A-Za-z][\w.]*\(")
#: Cell references (``A1``, ``$B$2:C3``), removed from answers written as a formula
#: or holding a spreadsheet function call.
_CELL_REFERENCE = re.compile(r"\$?\b[A-Z]{1,3}\$?\d+\b(?::\$?[A-Z]{1,3}\$?\d+\b)?")
#: Characters that start a spreadsheet formula, or mark an answer as markup.
_FORMULA_START = re.compile(r"^\s*[=+\-@]")
_MARKUP_CHARS = re.compile(r"[<>|{}\\]|https?:|www\.", re.IGNORECASE)
#: A word at least this share of whose mentions lie inside one phrase is not
#: listed again on its own.
SUBSUMED = 0.8
#: Characters of a verbatim kept (longer ones end in "…").
VERBATIM_CHARS = 240
#: Fewer answers than this in the dissatisfied or the satisfied group: no contrast.
MIN_GROUP = 10


def _en_stop_words() -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS) - EN_NEGATIONS


_EN_STOP: frozenset[str] = _en_stop_words()


def _segment_chinese(run: str) -> list[str]:
    import jieba

    jieba.setLogLevel(logging.WARNING)  # no "Building prefix dict" lines on stderr
    return [w for w in jieba.lcut(run) if w.strip()]


@dataclass(frozen=True)
class Token:
    """One word of an answer: its text, whether it is Chinese, and its kind."""

    text: str
    chinese: bool
    stop: bool
    negation: bool


def _english_token(word: str) -> Token | None:
    word = word.replace("’", "'")
    if word.endswith("n't"):
        return Token("not", False, False, True)
    word = word.split("'", 1)[0]
    if not any(ch.isalpha() for ch in word):
        return None  # a bare number
    return Token(word, False, word in _EN_STOP or len(word) < 2, word in EN_NEGATIONS)


def strip_markup(text: str) -> str:
    """The answer without what is not the respondent's words: HTML tags (and the
    content of script and style elements), entities, URLs, spreadsheet function
    calls, DDE links and cell references (see :data:`_MARKUP`; ``A1`` only in an
    answer with a formula or function call); each is replaced by a space, so the words
    around it stay apart.

    >>> strip_markup("<b>Refund</b> please, see https://x.example")
    ' Refund  please, see  '
    """
    text = html.unescape(str(text))
    formula = bool(_FORMULA_START.match(text) or _MARKUP[3].search(text))
    if _FORMULA_START.match(text):  # =hyperlink( is a call too in a formula
        text = _FORMULA_CALL.sub(" ", text)
    for pattern in _MARKUP:
        text = pattern.sub(" ", text)
    return _CELL_REFERENCE.sub(" ", text) if formula else text


def has_markup(text: str) -> bool:
    """Whether an answer holds markup or formula characters (it starts with ``=``,
    ``+``, ``-`` or ``@``, or holds ``<``, ``>``, ``|``, braces, a backslash or a URL)."""
    return bool(_FORMULA_START.match(text) or _MARKUP_CHARS.search(text))


def tokenize(text: str) -> list[list[Token]]:
    """The words of an answer, phrase by phrase (punctuation separates phrases);
    markup is removed first (:func:`strip_markup`).

    Parameters
    ----------
    text : str
        One answer, English, Chinese or both.

    Returns
    -------
    list of list of Token
        Stop words are kept (flagged) so that phrases are built from adjacent words.
    """
    text = unicodedata.normalize("NFKC", strip_markup(text)).lower()
    phrases: list[list[Token]] = []
    for part in _BOUNDARY.split(text):
        tokens: list[Token] = []
        position = 0
        for match in [*_CJK.finditer(part), None]:
            end = match.start() if match is not None else len(part)
            for word in _EN_WORD.findall(part[position:end]):
                token = _english_token(word)
                if token is not None:
                    tokens.append(token)
            if match is None:
                break
            for word in _segment_chinese(match.group()):
                tokens.append(Token(word, True, word in ZH_STOP_WORDS and
                                    word not in ZH_NEGATIONS, word in ZH_NEGATIONS))
            position = match.end()
        if tokens:
            phrases.append(tokens)
    return phrases


def answer_terms(text: str) -> dict[str, tuple[str, ...]]:
    """The distinct terms of one answer, in order of first appearance.

    Returns
    -------
    dict
        term -> its words (one word, or two for a phrase).
    """
    out: dict[str, tuple[str, ...]] = {}
    for phrase in tokenize(text):
        for k, token in enumerate(phrase):
            if not (token.stop or token.negation):
                out.setdefault(token.text, (token.text,))
            if k == 0:
                continue
            first = phrase[k - 1]
            if token.stop or token.negation or (first.stop and not first.negation):
                continue
            joiner = "" if first.chinese and token.chinese else " "
            out.setdefault(first.text + joiner + token.text, (first.text, token.text))
    return out


def weighted_quantile(x: np.ndarray, w: np.ndarray, p: float) -> float:
    """The ``p`` quantile of ``x`` with weights ``w``, R survey's ``qrule = "hf7"``
    (the weighted form of R's default quantile, type 7).

    With ``x`` sorted and ``W_k`` the cumulated weights, the points
    ``(W_{k-1} / W_{n-1}, x_k)`` (``W_0 = 0``) are joined by straight lines and read
    at ``p`` (``p_1 = 0``, ``p_n = 1``); equal weights give type 7. Zero weights are
    left out. Tested against ``svyquantile(qrule = "hf7")`` in
    tests/test_text_weights.py.
    """
    x, w = np.asarray(x, dtype=float), np.asarray(w, dtype=float)
    x, w = x[w != 0], w[w != 0]
    order = np.argsort(x, kind="stable")
    x, cumulated = x[order], np.cumsum(w[order])
    if len(x) == 1:
        return float(x[0])
    points = np.concatenate([[0.0], cumulated[:-1]]) / cumulated[-2]
    return float(np.interp(p, points, x))


def tertile_groups(index: pd.Series, share: float = 1 / 3,
                   weights: pd.Series | None = None) -> tuple[pd.Series, float, float]:
    """Dissatisfied and satisfied respondents from their satisfaction index.

    Parameters
    ----------
    index : Series
        The satisfaction index per respondent (missing allowed).
    share : float
        The share in each tail (1/3: the lower and upper tertiles).
    weights : Series, optional
        Respondent weights by respondent: the cut-points are the weighted quantiles
        (:func:`weighted_quantile`) of the respondents with an index and a positive
        weight; equal weights give the unweighted ones.

    Returns
    -------
    (groups, low, high)
        ``groups``: ``"dissatisfied"`` (index ≤ ``low``, the ``share`` quantile),
        ``"satisfied"`` (index ≥ ``high``, the ``1 − share`` quantile),
        ``"middle"`` or missing (no index). Quantiles as R's default (type 7).
        When ``low >= high`` no one is split (all ``"middle"``).
    """
    values = pd.to_numeric(index, errors="coerce").astype(float)
    known = values.dropna()
    w = None
    if weights is not None:
        w = pd.to_numeric(weights.reindex(known.index), errors="coerce")
        known, w = known[w > 0], w[w > 0]
        if len(w) and np.ptp(w.to_numpy()) == 0:
            w = None  # equal weights: the unweighted quantiles, exactly
    groups = pd.Series(pd.NA, index=index.index, dtype=object)
    if known.empty:
        return groups, math.nan, math.nan
    if w is None:
        low, high = float(known.quantile(share)), float(known.quantile(1 - share))
    else:
        low = weighted_quantile(known.to_numpy(), w.to_numpy(), share)
        high = weighted_quantile(known.to_numpy(), w.to_numpy(), 1 - share)
    groups[values.notna()] = "middle"
    if low < high:
        groups[values <= low] = "dissatisfied"
        groups[values >= high] = "satisfied"
    return groups, low, high


def log_odds_dirichlet(y_a: np.ndarray, y_b: np.ndarray, y_all: np.ndarray,
                       prior_size: float) -> tuple[np.ndarray, np.ndarray]:
    """Monroe, Colaresi & Quinn's (2008) log-odds ratio with an informative
    Dirichlet prior, and its standard error.

    .. math::
        \\delta_w = \\ln\\frac{y^a_w + \\alpha_w}{n^a + \\alpha_0 - y^a_w - \\alpha_w}
                  - \\ln\\frac{y^b_w + \\alpha_w}{n^b + \\alpha_0 - y^b_w - \\alpha_w},\\quad
        \\sigma^2_w \\approx \\frac{1}{y^a_w + \\alpha_w} + \\frac{1}{y^b_w + \\alpha_w}

    with ``α_w = α_0 y_w / Σ y`` (``y_all``). Tested against a hand computation in
    tests/test_text.py.

    Parameters
    ----------
    y_a, y_b : array
        Counts of each term in the two groups.
    y_all : array
        Counts of each term in all documents (the prior's shape).
    prior_size : float
        ``α_0``, the prior's total pseudo-count.

    Returns
    -------
    (delta, se)
    """
    y_a, y_b, y_all = (np.asarray(v, dtype=float) for v in (y_a, y_b, y_all))
    alpha = prior_size * y_all / y_all.sum()
    n_a, n_b = y_a.sum(), y_b.sum()
    delta = (np.log((y_a + alpha) / (n_a + prior_size - y_a - alpha))
             - np.log((y_b + alpha) / (n_b + prior_size - y_b - alpha)))
    se = np.sqrt(1.0 / (y_a + alpha) + 1.0 / (y_b + alpha))
    return delta, se


@dataclass
class ThemeResult:
    """Themes of one open-ended question.

    Attributes
    ----------
    item : str
        The question's id.
    terms : DataFrame
        One row per term with at least ``min_count`` mentions, most mentioned
        first: ``term``, ``kind`` (``word``/``phrase``), ``mentions``, ``share`` (of
        the answers), ``mentions_dissatisfied``, ``share_dissatisfied``,
        ``mentions_satisfied``, ``share_satisfied`` (shares weighted with
        weights), ``effective_dissatisfied``, ``effective_satisfied`` (the Kish
        effective mentions; the mentions without weights), ``log_odds`` (δ,
        positive: more among the dissatisfied), ``se``, ``z``, ``difference``
        (share among the dissatisfied minus among the satisfied) and
        ``difference_se`` (design-based) (missing without a contrast) and
        ``subsumed`` (a word listed through its phrase).
    themes : DataFrame
        ``side`` (``dissatisfied``, ``satisfied``, ``frequent``), ``rank``, ``term``,
        ``related`` (terms folded into it, comma-separated), ``mentions``,
        ``share_dissatisfied``, ``share_satisfied``, ``z``.
    examples : DataFrame
        ``side``, ``term``, ``respondent``, ``text`` (the verbatim, cut at
        :data:`VERBATIM_CHARS`).
    counts : dict
        ``respondents``, ``answers``, ``answers_dissatisfied``,
        ``answers_satisfied``, ``cut_low``, ``cut_high`` (the index cut-points),
        ``terms_tested``, ``mentions`` (all terms' mentions, ``n``),
        ``mentions_dissatisfied`` and ``mentions_satisfied`` (``n^d``, ``n^s``),
        ``weighted``, ``answers_no_weight``, ``effective_n_dissatisfied`` and
        ``effective_n_satisfied`` (Kish; the answers themselves without weights), and
        the options used.
    warnings : list of Diagnostic
    """

    item: str
    terms: pd.DataFrame
    themes: pd.DataFrame
    examples: pd.DataFrame
    counts: dict[str, Any]
    warnings: list[Diagnostic] = field(default_factory=list)

    @property
    def contrast(self) -> bool:
        """Whether the dissatisfied and the satisfied were compared."""
        return bool(self.terms["z"].notna().any()) if len(self.terms) else False

    def to_dict(self) -> dict[str, Any]:
        """Plain data for the JSON output."""
        from satisfaction.io import records

        return {"item": self.item, "counts": dict(self.counts),
                "themes": records(self.themes), "terms": records(self.terms),
                "examples": records(self.examples),
                "warnings": [w.to_dict() for w in self.warnings]}


TERM_COLUMNS = ["term", "kind", "mentions", "share", "mentions_dissatisfied",
                "share_dissatisfied", "mentions_satisfied", "share_satisfied",
                "effective_dissatisfied", "effective_satisfied",
                "log_odds", "se", "z", "difference", "difference_se", "subsumed"]
THEME_COLUMNS = ["side", "rank", "term", "related", "mentions", "share_dissatisfied",
                 "share_satisfied", "z"]
EXAMPLE_COLUMNS = ["side", "term", "respondent", "text"]


def _verbatim(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= VERBATIM_CHARS else text[:VERBATIM_CHARS - 1].rstrip() + "…"


def kish_counts(mentions: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted mentions scaled to the group's Kish effective size.

    .. math::
        \\tilde y_w = \\sum_i \\tilde w_i m_{iw},\\quad
        \\tilde w_i = w_i \\frac{n_{\\mathrm{eff}}}{\\sum_j w_j},\\quad
        n_{\\mathrm{eff}} = \\frac{(\\sum_j w_j)^2}{\\sum_j w_j^2}

    (Kish 1965): the weighted share of answers mentioning ``w`` times the number of
    answers an unweighted sample of the same precision would hold. Equal weights
    give the counts themselves. Tested against R (survey's ``svymean`` shares and the
    weights' effective n) in tests/test_text_weights.py.

    Parameters
    ----------
    mentions : array (answers × terms) of 0/1
    weights : array (answers)
    """
    w = np.asarray(weights, dtype=float)
    if not len(w) or w.sum() <= 0:
        return np.zeros(mentions.shape[1])
    n_eff = w.sum() ** 2 / (w ** 2).sum()
    return (w * n_eff / w.sum()) @ mentions


def share_difference(mentions: np.ndarray, weights: np.ndarray, dis: np.ndarray,
                     sat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Design-based difference of the weighted shares of answers mentioning each term,
    dissatisfied minus satisfied, and its linearisation standard error.

    With ``p_g = Σ_{i∈g} w_i m_i / W_g`` (``W_g = Σ_{i∈g} w_i``) the influence of
    answer ``i`` on ``p_d − p_s`` is ``z_i = w_i (1_d (m_i − p_d) / W_d − 1_s (m_i −
    p_s) / W_s)`` and ``Var = n / (n − 1) Σ_i (z_i − z̄)²`` over all ``n`` answers
    (domains of one design with weights only, sampled with replacement): R's
    ``svyby(~m, ~group, svydesign(ids = ~1, weights = ~w), svymean, covmat = TRUE)``
    followed by ``svycontrast``, against which it is tested
    (tests/reference/text_weights_survey.R).

    Returns
    -------
    (difference, se) : arrays over the terms
    """
    m = mentions.astype(float)
    w = np.asarray(weights, dtype=float)
    n = len(w)
    w_d, w_s = w * dis, w * sat
    p_d, p_s = (w_d @ m) / w_d.sum(), (w_s @ m) / w_s.sum()
    z = (w_d[:, None] * (m - p_d) / w_d.sum()) - (w_s[:, None] * (m - p_s) / w_s.sum())
    var = n / (n - 1) * ((z - z.mean(axis=0)) ** 2).sum(axis=0)
    return p_d - p_s, np.sqrt(var)


def themes(answers: pd.Series, index: pd.Series | None = None, *, item: str = "",
           min_count: int = 5, top: int = 8, z_min: float = 1.96,
           prior_size: float = 100.0, examples: int = 3, share: float = 1 / 3,
           weights: pd.Series | None = None) -> ThemeResult:
    """Key terms of the answers to one open-ended question (see the module notes).

    Parameters
    ----------
    answers : Series
        The answers (text, ``None`` when empty), indexed by respondent.
    index : Series, optional
        The satisfaction index (0-100) by respondent; without it only the most
        mentioned terms are listed.
    item : str
        The question's id (in the result and its diagnostics).
    min_count : int
        Mentions a term needs in all answers to be listed.
    top : int
        Themes listed per side.
    z_min : float
        ``|z|`` a term needs to be a theme of the dissatisfied or the satisfied.
    prior_size : float
        ``α_0`` of the Dirichlet prior.
    examples : int
        Verbatims per theme.
    share : float
        Share of respondents in each of the two compared groups.
    weights : Series, optional
        Respondent weights by respondent. The shares become weighted shares and the
        log-odds uses Kish effective mentions (:func:`kish_counts`); answers without
        a positive weight are left out and counted (``answers_no_weight``).

    Returns
    -------
    ThemeResult
    """
    texts = pd.Series([None if v is None or (isinstance(v, float) and math.isnan(v))
                       else str(v) for v in answers], index=answers.index, dtype=object)
    texts = texts[texts.map(lambda v: v is not None and bool(v.strip()))]
    warnings: list[Diagnostic] = []
    counts: dict[str, Any] = {"respondents": len(answers), "answers": len(texts),
                              "answers_dissatisfied": 0, "answers_satisfied": 0,
                              "cut_low": None, "cut_high": None, "terms_tested": 0,
                              "mentions": 0, "mentions_dissatisfied": 0,
                              "mentions_satisfied": 0, "min_count": int(min_count), "z_min": z_min,
                              "prior_size": prior_size, "share": share,
                              "weighted": weights is not None, "answers_no_weight": 0}
    if weights is not None:
        w_all = pd.to_numeric(weights.reindex(texts.index), errors="coerce")
        keep = w_all.notna() & (w_all > 0)
        counts["answers_no_weight"] = int((~keep).sum())
        if not keep.all():
            warnings.append(Diagnostic("text_no_weight", "caution",
                                       {"item": item, "n": int((~keep).sum())}))
        texts = texts[keep.to_numpy()]
        counts["answers"] = len(texts)
        w = w_all[keep].to_numpy(dtype=float)
    else:
        w = np.ones(len(texts))
    if texts.empty:
        warnings.append(Diagnostic("text_no_answers", "info", {"item": item}))
        return ThemeResult(item, pd.DataFrame(columns=TERM_COLUMNS),
                           pd.DataFrame(columns=THEME_COLUMNS),
                           pd.DataFrame(columns=EXAMPLE_COLUMNS), counts, warnings)
    per_answer = {rid: answer_terms(text) for rid, text in texts.items()}
    parts: dict[str, tuple[str, ...]] = {}
    for found in per_answer.values():
        parts.update(found)
    vocabulary = list(parts)
    position = {term: k for k, term in enumerate(vocabulary)}
    mentions = np.zeros((len(texts), len(vocabulary)), dtype=np.int64)
    for row, found in enumerate(per_answer.values()):
        mentions[row, [position[t] for t in found]] = 1
    y_all = mentions.sum(axis=0)
    counts["mentions"] = int(y_all.sum())

    if index is not None:
        groups, low, high = tertile_groups(index, share, weights)
        side = groups.reindex(texts.index).to_numpy()
        counts["cut_low"], counts["cut_high"] = _finite(low), _finite(high)
    else:
        side = np.full(len(texts), None, dtype=object)
    dis, sat = side == "dissatisfied", side == "satisfied"
    counts["answers_dissatisfied"], counts["answers_satisfied"] = int(dis.sum()), int(sat.sum())
    y_d, y_s = mentions[dis].sum(axis=0), mentions[sat].sum(axis=0)
    counts["mentions_dissatisfied"], counts["mentions_satisfied"] = int(y_d.sum()), int(y_s.sum())
    contrast = index is not None and dis.sum() >= MIN_GROUP and sat.sum() >= MIN_GROUP
    if index is None:
        warnings.append(Diagnostic("text_no_index", "info", {"item": item}))
    elif not contrast:
        warnings.append(Diagnostic("text_no_contrast", "info",
                                   {"item": item, "dissatisfied": int(dis.sum()),
                                    "satisfied": int(sat.sum()), "min": MIN_GROUP}))
    # effective mentions: the counts themselves without weights (kish_counts of ones)
    e_d = kish_counts(mentions[dis], w[dis]) if weights is not None else y_d.astype(float)
    e_s = kish_counts(mentions[sat], w[sat]) if weights is not None else y_s.astype(float)
    e_all = (w @ mentions) if weights is not None else y_all.astype(float)
    counts["effective_n_dissatisfied"] = _kish_n(w[dis])
    counts["effective_n_satisfied"] = _kish_n(w[sat])
    if contrast:
        delta, se = log_odds_dirichlet(e_d, e_s, e_all, prior_size)
        difference, difference_se = share_difference(mentions, w, dis, sat)
    else:
        delta = se = difference = difference_se = np.full(len(vocabulary), np.nan)
    terms = pd.DataFrame({
        "term": vocabulary,
        "kind": ["phrase" if len(parts[t]) == 2 else "word" for t in vocabulary],
        "mentions": y_all, "share": (w @ mentions) / w.sum(),
        "mentions_dissatisfied": y_d,
        "share_dissatisfied": (w[dis] @ mentions[dis]) / w[dis].sum() if dis.sum() else np.nan,
        "mentions_satisfied": y_s,
        "share_satisfied": (w[sat] @ mentions[sat]) / w[sat].sum() if sat.sum() else np.nan,
        "effective_dissatisfied": e_d, "effective_satisfied": e_s,
        "log_odds": delta, "se": se, "z": delta / se,
        "difference": difference, "difference_se": difference_se})
    terms = terms[terms["mentions"] >= min_count]
    counts["terms_tested"] = len(terms) if contrast else 0
    terms = terms.sort_values(["mentions", "term"], ascending=[False, True], kind="stable")
    terms["subsumed"] = _subsumed(terms, parts)
    terms = terms.reset_index(drop=True)[TERM_COLUMNS]

    listed = terms[~terms["subsumed"]]
    answers_of = {t: mentions[:, position[t]].astype(bool) for t in listed["term"]}
    chosen: list[tuple[str, pd.DataFrame]] = []
    if contrast:  # ties in z: phrases before words
        ranked = listed.assign(_phrase=listed["kind"] == "phrase")
        chosen.append(("dissatisfied", ranked[ranked["z"] >= z_min].sort_values(
            ["z", "_phrase"], ascending=[False, False], kind="stable")))
        chosen.append(("satisfied", ranked[ranked["z"] <= -z_min].sort_values(
            ["z", "_phrase"], ascending=[True, False], kind="stable")))
    chosen.append(("frequent", listed))
    theme_rows: list[dict[str, Any]] = []
    for name, frame in chosen:
        for r in frame.itertuples(index=False):
            lead = _fold_into(r.term, [row["term"] for row in theme_rows
                                       if row["side"] == name], answers_of)
            if lead is not None:
                row = next(row for row in theme_rows if row["side"] == name and
                           row["term"] == lead)
                row["related"] = ", ".join(filter(None, (row["related"], r.term)))
                continue
            if sum(row["side"] == name for row in theme_rows) == top:
                continue
            theme_rows.append({"side": name,
                               "rank": 1 + sum(row["side"] == name for row in theme_rows),
                               "term": r.term, "related": "", "mentions": int(r.mentions),
                               "share_dissatisfied": r.share_dissatisfied,
                               "share_satisfied": r.share_satisfied, "z": r.z})
    example_rows = []
    for row in theme_rows:
        name = row["side"]
        pool = texts[dis] if name == "dissatisfied" else texts[sat] if name == "satisfied" \
            else texts
        theme_terms = [row["term"], *filter(None, row["related"].split(", "))]
        for rid in representative_answers(pool, {rid: per_answer[rid] for rid in pool.index},
                                          theme_terms, examples):
            example_rows.append({"side": name, "term": row["term"], "respondent": rid,
                                 "text": _verbatim(pool[rid])})
    return ThemeResult(item, terms, pd.DataFrame(theme_rows, columns=THEME_COLUMNS),
                       pd.DataFrame(example_rows, columns=EXAMPLE_COLUMNS), counts, warnings)


def representative_answers(pool: pd.Series, pool_terms: dict[Any, dict[str, Any]],
                           theme_terms: list[str], k: int) -> list[Any]:
    """The ``k`` answers that show a theme best, among those holding its term.

    Ranked by, in turn: (1) no markup or formula characters (:func:`has_markup`);
    (2) more of the theme's terms (the term and those folded into it); (3) a length
    closest to the median length of the answers holding the term (typical, neither a
    fragment nor an essay); (4) the order of the file. An answer worded as one
    already chosen (the same text, ignoring case and spacing) is passed over while
    others remain. The first term of ``theme_terms`` is the one the answers must hold.
    """
    lead = theme_terms[0]
    holding = [rid for rid in pool.index if lead in pool_terms[rid]]
    if not holding:
        return []
    median = float(np.median([len(pool[rid]) for rid in holding]))
    order = {rid: k for k, rid in enumerate(holding)}
    holding.sort(key=lambda rid: (has_markup(pool[rid]),
                                  -sum(t in pool_terms[rid] for t in theme_terms),
                                  abs(len(pool[rid]) - median), order[rid]))
    chosen: list[Any] = []
    seen: set[str] = set()
    for rid in holding:
        wording = " ".join(str(pool[rid]).lower().split())
        if wording not in seen:
            seen.add(wording)
            chosen.append(rid)
    repeats = [rid for rid in holding if rid not in chosen]
    return (chosen + repeats)[:k]


def _fold_into(term: str, listed: list[str], answers_of: dict[str, np.ndarray]
               ) -> str | None:
    """The listed theme that holds at least :data:`SUBSUMED` of this term's answers
    (``fast`` in ``delivery``: the same answers, one theme), or None."""
    mine = answers_of[term]
    for lead in listed:
        if (mine & answers_of[lead]).sum() >= SUBSUMED * mine.sum():
            return lead
    return None


def _kish_n(weights: np.ndarray) -> float:
    """Kish's effective sample size ``(Σw)² / Σw²`` (0 without weights)."""
    return float(weights.sum() ** 2 / (weights ** 2).sum()) if len(weights) else 0.0


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _subsumed(terms: pd.DataFrame, parts: dict[str, tuple[str, ...]]) -> list[bool]:
    """Words whose mentions lie for at least :data:`SUBSUMED` inside one listed phrase."""
    mentions = dict(zip(terms["term"], terms["mentions"], strict=True))
    best: dict[str, int] = {}
    for term, count in mentions.items():
        if len(parts[term]) == 2:
            for word in set(parts[term]):
                best[word] = max(best.get(word, 0), int(count))
    return [len(parts[t]) == 1 and best.get(t, 0) >= SUBSUMED * mentions[t]
            for t in terms["term"]]


def open_ended_themes(questionnaire: Any, texts: pd.DataFrame, index: pd.Series | None,
                      **options: Any) -> list[ThemeResult]:
    """Themes of every open-ended question of a questionnaire.

    Parameters
    ----------
    questionnaire : Questionnaire
    texts : DataFrame
        ``Responses.texts``: one column per open-ended question.
    index : Series, optional
        The satisfaction index by respondent.
    **options
        Passed to :func:`themes`.

    Returns
    -------
    list of ThemeResult
        In questionnaire order, for the questions whose column was read.
    """
    return [themes(texts[item.id], index, item=item.id, **options)
            for item in questionnaire.open_ended if item.id in texts.columns]
