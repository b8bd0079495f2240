"""Deterministic demo data: survey responses from a population model, and the
matching customers' transactions.

Responses are drawn from a linear factor model that follows the
questionnaire's own structure:

* exogenous constructs (no parent, no incoming path) are standard normal with
  a common correlation ``rho``;
* a first-order construct under a higher-order one is
  ``f = λ_h · parent + sqrt(1 − λ_h²) · e``;
* an endogenous construct is ``y = Σ β_k x_k + e``, with the residual variance
  chosen so that ``Var(y) = 1`` in the population;
* an item is ``x* = λ · f + sqrt(1 − λ²) · ε``, placed on its scale as
  ``mean + sd · x*``, rounded on integer scales and clipped to the scale.

Reverse-worded items are written reversed (``min + max − x``), as a
respondent would answer them. A small share of respondents is contaminated to
exercise the screens: empty answers, straight-liners, out-of-range and
non-numeric answers, and failed attention checks.

Transactions follow a "buy till you die" process (Fader, Hardie & Lee 2005):
each customer buys at a Poisson rate and becomes inactive after any purchase
with a fixed probability; both depend on the customer's loyalty, so that the
survey and the purchase history tell the same story.

The demo's population (:func:`demo_population`) makes *Convenience* (in-sale:
the time and effort it costs to buy) the important but weak factor: it loads
highest on the strongest stage construct and has the lowest mean.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from satisfaction.questionnaire import Questionnaire, load_questionnaire
from satisfaction.resources import QUESTIONNAIRES


@dataclass
class Population:
    """Parameters of the population model (unset values take the defaults).

    Attributes
    ----------
    loadings : dict
        Item id → standardized loading (default 0.8).
    parent_loadings : dict
        First-order construct id → standardized loading on its parent (0.75).
    paths : dict
        (outcome, predictor) → standardized coefficient (default 0.35).
    means : dict
        Construct id → mean of its items as a share of the scale range (0.65).
    item_sd : float
        Item standard deviation as a share of the scale range.
    rho : float
        Correlation between exogenous constructs.
    """

    loadings: dict[str, float] = field(default_factory=dict)
    parent_loadings: dict[str, float] = field(default_factory=dict)
    paths: dict[tuple[str, str], float] = field(default_factory=dict)
    means: dict[str, float] = field(default_factory=dict)
    item_sd: float = 0.2
    rho: float = 0.4


def demo_population() -> Population:
    """The CRAM population behind the demo: Convenience is important but weak."""
    return Population(
        parent_loadings={"Info": 0.70, "Brand": 0.65, "WoM": 0.70,
                         "Quality": 0.75, "Price": 0.70, "Convenience": 0.88,
                         "Staff": 0.72, "Environment": 0.68,
                         "Service": 0.75, "Extension": 0.65, "Promise": 0.72},
        paths={("Sat", "PreSale"): 0.20, ("Sat", "InSale"): 0.50, ("Sat", "PostSale"): 0.20,
               ("Loy", "Sat"): 0.70},
        means={"Info": 0.64, "Brand": 0.66, "WoM": 0.62, "Quality": 0.74, "Price": 0.68,
               "Convenience": 0.42, "Staff": 0.72, "Environment": 0.70,
               "Service": 0.60, "Extension": 0.58, "Promise": 0.63,
               "Sat": 0.64, "Loy": 0.62},
        rho=0.45,
    )


def _order(q: Questionnaire) -> list[str]:
    """Constructs and observed variables in an order where causes come first."""
    names = [c.id for c in q.constructs] + [o.id for o in q.observed]
    causes: dict[str, set[str]] = {n: set() for n in names}
    for c in q.constructs:
        if c.parent:
            causes[c.id].add(c.parent)
    for reg in q.regressions:
        causes.setdefault(reg.lhs, set()).update(reg.rhs)
    done: list[str] = []
    while len(done) < len(causes):
        ready = [n for n in causes if n not in done and causes[n] <= set(done)]
        if not ready:
            raise ValueError("the structural model has a cycle; cannot simulate it")
        done.extend(ready)
    return done


def latent_scores(q: Questionnaire, n: int, rng: np.random.Generator,
                  population: Population) -> pd.DataFrame:
    """Draw the standardized latent variables of ``n`` respondents."""
    order = _order(q)
    incoming = {reg.lhs: reg.rhs for reg in q.regressions}
    parents = {c.id: c.parent for c in q.constructs}
    exogenous = [v for v in order if v not in incoming and not parents.get(v)]
    common = rng.standard_normal(n)
    scores: dict[str, np.ndarray] = {}
    r = population.rho
    for v in order:
        if v in exogenous:
            scores[v] = np.sqrt(r) * common + np.sqrt(1 - r) * rng.standard_normal(n)
        elif parents.get(v) and v not in incoming:
            lam = population.parent_loadings.get(v, 0.75)
            scores[v] = lam * scores[parents[v]] + np.sqrt(1 - lam**2) * rng.standard_normal(n)
        else:
            pred = sum(population.paths.get((v, x), 0.35) * scores[x] for x in incoming[v])
            var = float(np.var(pred))
            if var > 0.85:  # keep a residual: rescale an over-determined outcome
                pred = pred * np.sqrt(0.85 / var)
                var = 0.85
            scores[v] = pred + np.sqrt(1 - var) * rng.standard_normal(n)
    return pd.DataFrame(scores)


def simulate_responses(questionnaire: Questionnaire | str | Path, n: int = 500,
                       seed: int = 1, population: Population | None = None,
                       contaminate: bool = True, comments: str = "en") -> pd.DataFrame:
    """Simulate a responses file for any questionnaire.

    Parameters
    ----------
    questionnaire : Questionnaire or path
    n : int
        Number of respondents.
    seed : int
        Seed of the random generator; the same seed gives the same data.
    population : Population, optional
        Model parameters; defaults for anything unset.
    contaminate : bool
        Add the problems the screens must catch (about 3% of respondents).
    comments : {"en", "zh", "mixed"}
        Language of the answers to open-ended questions (``"mixed"``: each
        respondent English or Chinese with equal chance); the numbers do not
        depend on it.

    Returns
    -------
    pandas.DataFrame
        One row per respondent, columns as in a responses file (the
        questionnaire's ``column`` names), plus the latent scores in
        ``DataFrame.attrs["latent"]``.
    """
    q = questionnaire if isinstance(questionnaire, Questionnaire) else load_questionnaire(
        questionnaire)
    population = population or Population()
    rng = np.random.default_rng(seed)
    latent = latent_scores(q, n, rng, population)
    out: dict[str, object] = {q.respondent_id: [f"R{i:05d}" for i in range(1, n + 1)]}
    owner = q.construct_of_item()
    for item in q.analysed_items:
        scale = q.item_scale(item)
        span = scale.max - scale.min
        construct = owner.get(item.id, item.id)
        lam = population.loadings.get(item.id, 0.8 if item.id in owner else 1.0)
        star = lam * latent[construct].to_numpy() + np.sqrt(max(1 - lam**2, 0.0)) * \
            rng.standard_normal(n)
        mean = scale.min + population.means.get(construct, 0.65) * span
        x = mean + population.item_sd * span * star
        x = np.round(x) if scale.integer else np.round(x, 2)
        x = np.clip(x, scale.min, scale.max)
        if item.reverse:
            x = scale.min + scale.max - x
        out[item.source] = x
    for check in q.checks:
        out[check.source] = np.full(n, check.expect)
    for group in q.groups:
        if group.type == "categorical" and group.codes:
            codes = list(group.codes)
            out[group.source] = rng.choice(codes, size=n)
        elif group.type == "numeric":
            lo, hi = group.min or 18, group.max or 80
            out[group.source] = rng.integers(int(lo), int(hi) + 1, size=n)
    if q.customer_id:
        out[q.customer_id] = [f"C{i:06d}" for i in range(1, n + 1)]
    frame = pd.DataFrame(out)
    if contaminate:
        frame = _contaminate(frame, q, rng)
    shares = {"en": 0.0, "zh": 1.0, "mixed": 0.5}
    if comments not in shares:
        from satisfaction.errors import UsageError

        raise UsageError("expected 'en', 'zh' or 'mixed'", column="comments", value=comments)
    chinese_share = shares[comments]
    for open_item in q.open_ended:  # a generator of their own: the numbers stay as they were
        frame[open_item.source] = simulate_comments(q, latent, seed, markup=contaminate,
                                                    chinese_share=chinese_share)
    for item in (*q.analysed_items, *q.checks):  # whole numbers written as "5", not "5.0"
        if q.item_scale(item).integer:
            frame[item.source] = pd.Series([_whole(v) for v in frame[item.source]],
                                           index=frame.index, dtype=object)
    frame.attrs["latent"] = latent.set_axis(frame[q.respondent_id].to_numpy())
    return frame


#: Topics of the simulated comments by purchase stage: what a respondent complains
#: about when that stage went badly, or praises when it went well; each topic is
#: worded several ways (English, Chinese) around its key phrase.
COMPLAINTS: dict[str, list[tuple[tuple[str, ...], tuple[str, ...]]]] = {
    "pre_sale": [(("the product information is confusing", "confusing product information online",
                   "I could not understand the product information"),
                  ("产品信息让人看不懂", "网上的产品信息很混乱", "看不懂产品信息"))],
    "in_sale": [(("the waiting time at the checkout is too long", "long waiting time to pay",
                  "the waiting time in the queue was awful"),
                 ("结账的等待时间太长", "付款等待时间很久", "排队等待时间太长")),
                (("prices are too high", "high prices compared with other shops",
                  "the prices keep going up"),
                 ("价格太高", "价格比别家高", "价格一直在涨"))],
    "post_sale": [(("my complaint was never resolved", "nobody resolved my complaint",
                    "the complaint took months and was not resolved"),
                   ("投诉一直没有解决", "我的投诉没人处理", "投诉拖了几个月也没解决"))],
}
PRAISE: dict[str, list[tuple[tuple[str, ...], tuple[str, ...]]]] = {
    "pre_sale": [(("honest advertising", "the advertising was honest"),
                  ("广告实在", "广告很实在"))],
    "in_sale": [(("friendly staff in the store", "the friendly staff helped me choose",
                  "always friendly staff"),
                 ("店员服务热情", "服务热情，帮我挑选", "每次服务热情")),
                (("good quality for the price", "the quality is good", "good quality products"),
                 ("质量很好", "产品质量好", "质量好，物有所值"))],
    "post_sale": [(("fast delivery", "the delivery was fast", "fast delivery to my door"),
                   ("送货很快", "快递送货很快", "送货很快，很方便"))],
}


def simulate_comments(q: Questionnaire, latent: pd.DataFrame, seed: int,
                      answer_share: float = 0.6, chinese_share: float = 0.0,
                      markup: bool = False) -> list[str | None]:
    """Answers to an open-ended question, tied to each respondent's satisfaction.

    A respondent answers with probability ``answer_share``, in Chinese with
    probability ``chinese_share`` (default: none; the Chinese demo passes 1), else
    in English; the language draw is made either way, so the other draws do not
    depend on it. The answer complains with probability
    ``1 / (1 + exp(1.5 · s))`` (``s``: the standardized latent satisfaction, the
    construct with ``role: satisfaction``), else praises; it names one or two
    topics, a stage's topic chosen with weight ``exp(∓ mean latent of the
    stage's constructs)`` (complaints about the stages that went worst, praise of
    the best). With ``markup`` one answer holds HTML and a formula (to show they
    stay inert). Seeded by ``seed`` on a generator of its own.
    """
    rng = np.random.default_rng([seed, 17])
    n = len(latent)
    sat_id = q.role("satisfaction")
    sat = latent[sat_id].to_numpy() if sat_id in latent else np.zeros(n)
    stages = [s for s in COMPLAINTS if any(c.stage == s for c in q.first_order)] or \
        list(COMPLAINTS)
    stage_score = np.column_stack([
        latent[[c.id for c in q.first_order if c.stage == s and c.id in latent]].mean(axis=1)
        if any(c.stage == s and c.id in latent for c in q.first_order) else np.zeros(n)
        for s in stages])
    out: list[str | None] = []
    for i in range(n):
        if rng.random() >= answer_share:
            out.append(None)
            continue
        chinese = rng.random() < chinese_share
        negative = rng.random() < 1.0 / (1.0 + np.exp(1.5 * sat[i]))
        weight = np.exp(-stage_score[i] if negative else stage_score[i])
        pool = COMPLAINTS if negative else PRAISE
        phrases = []
        for _ in range(1 + int(rng.random() < 0.35)):
            stage = stages[int(rng.choice(len(stages), p=weight / weight.sum()))]
            topic = pool[stage][int(rng.integers(len(pool[stage])))][1 if chinese else 0]
            phrase = topic[int(rng.integers(len(topic)))]
            if phrase not in phrases:
                phrases.append(phrase)
        if chinese:
            out.append("，".join(phrases) + "。")
        else:
            text = " and ".join(phrases)
            out.append(text[0].upper() + text[1:] + ".")
    if markup and out:
        answered = [k for k, v in enumerate(out) if v is not None]
        if answered:
            k = answered[int(rng.integers(len(answered)))]
            out[k] = "<b>价格太高</b> =1+1" if chinese_share >= 1 else \
                "<b>Prices are too high</b> =1+1"
    return out


def _whole(value: object) -> object:
    if isinstance(value, float | np.floating) and np.isfinite(value) and float(value).is_integer():
        return int(value)
    return value


def _contaminate(frame: pd.DataFrame, q: Questionnaire,
                 rng: np.random.Generator) -> pd.DataFrame:
    """Add the problems the data-quality screens exist for."""
    frame = frame.copy()
    n = len(frame)
    cols = [i.source for i in q.items]
    for col in cols:  # 1.5% of answers left empty, completely at random
        mask = rng.random(n) < 0.015
        frame[col] = frame[col].astype(object)
        frame.loc[mask, col] = None
    rows = rng.permutation(n)
    k = max(1, n // 100)
    straight, out_of_range, text, empty = (rows[:k], rows[k:k + k // 2 + 1],
                                           rows[2 * k:2 * k + 2], rows[3 * k:3 * k + 2])
    for r in straight:
        value = q.item_scale(q.items[0]).max
        frame.loc[frame.index[r], cols] = value
    for r in out_of_range:
        col = cols[int(rng.integers(len(cols)))]
        frame.loc[frame.index[r], col] = q.item_scale(q.items[0]).max + 2
    for r in text:
        frame.loc[frame.index[r], cols[int(rng.integers(len(cols)))]] = "n.a."
    for r in empty:
        frame.loc[frame.index[r], cols] = None
    if q.checks:
        failed = rows[4 * k:4 * k + max(1, k // 2)]
        col = q.checks[0].source
        frame[col] = frame[col].astype(object)
        frame.loc[frame.index[failed], col] = q.checks[0].expect - 3
    return frame


def simulate_transactions(loyalty: pd.Series, n_customers: int | None = None, seed: int = 1,
                          start: str = "2024-01-01", end: str = "2025-12-31",
                          ) -> pd.DataFrame:
    """Simulate the purchase history of customers whose loyalty is known.

    Parameters
    ----------
    loyalty : pandas.Series
        Standardized loyalty indexed by customer id (the respondents).
    n_customers : int, optional
        Total number of customers; those beyond the respondents get loyalty
        drawn from the standard normal and ids continuing the sequence.
    seed : int
    start, end : str
        Observation window (ISO dates).

    Returns
    -------
    pandas.DataFrame
        Columns ``customer``, ``date`` (datetime64), ``amount`` (float).

    Notes
    -----
    Customer *i* joins at a uniform time in the first three quarters of the
    window, then buys at Poisson rate ``λ_i = 0.08 · exp(0.35 · loy_i) · g_i``
    per week (``g_i`` ~ Gamma(2, 1/2): heterogeneity), and after each purchase
    becomes inactive with probability ``p_i = 1 / (1 + exp(2.2 + 0.6 · loy_i))``.
    Spend per purchase is log-normal with a customer-level mean that rises with
    loyalty.
    """
    rng = np.random.default_rng(seed + 7919)
    ids = list(loyalty.index.astype(str))
    loy = loyalty.to_numpy(dtype=float)
    if n_customers is not None and n_customers > len(ids):
        extra = n_customers - len(ids)
        width = max(6, len(str(n_customers)))
        ids += [f"C{i:0{width}d}" for i in range(len(ids) + 1, n_customers + 1)]
        loy = np.concatenate([loy, rng.standard_normal(extra)])
    m = len(ids)
    t0, t1 = pd.Timestamp(start), pd.Timestamp(end)
    weeks = (t1 - t0).days / 7.0
    first = rng.uniform(0, 0.75 * weeks, size=m)
    rate = 0.08 * np.exp(0.35 * loy) * rng.gamma(2.0, 0.5, size=m)
    drop = 1.0 / (1.0 + np.exp(2.2 + 0.6 * loy))
    spend_mean = np.log(40.0) + 0.15 * loy + 0.3 * rng.standard_normal(m)
    times, owners = [first], [np.arange(m)]
    now = first.copy()
    alive = np.ones(m, dtype=bool)
    for _ in range(200):
        alive &= rng.random(m) >= drop
        now = now + rng.exponential(1.0, size=m) / rate
        alive &= now <= weeks
        if not alive.any():
            break
        times.append(now[alive])
        owners.append(np.flatnonzero(alive))
    t = np.concatenate(times)
    who = np.concatenate(owners)
    days = np.floor(t * 7.0).astype(int)
    amount = np.round(np.exp(spend_mean[who] + 0.5 * rng.standard_normal(len(who))), 2)
    frame = pd.DataFrame({
        "customer": np.asarray(ids, dtype=object)[who],
        "date": t0 + pd.to_timedelta(days, unit="D"),
        "amount": amount,
    })
    return frame.sort_values(["date", "customer"], kind="stable").reset_index(drop=True)


@dataclass
class Demo:
    """The demo data set: questionnaire, responses and transactions."""

    questionnaire: Questionnaire
    questionnaire_path: Path
    responses: pd.DataFrame
    transactions: pd.DataFrame
    population: Population
    seed: int


def simulate_demo(n_respondents: int = 2000, n_customers: int = 100_000,
                  seed: int = 20261125, lang: str = "en") -> Demo:
    """The built-in demo: CRAM responses and the customers' transactions.

    Respondents' customer ids are the first ``n_respondents`` customers, and
    their simulated loyalty drives their purchases. The comments are written in
    the report's language ``lang`` (``"en"`` or ``"zh"``); nothing else depends on it.
    """
    path = QUESTIONNAIRES / "cram.yaml"
    q = load_questionnaire(path)
    population = demo_population()
    responses = simulate_responses(q, n=n_respondents, seed=seed, population=population,
                                   comments=lang)
    latent = responses.attrs["latent"]
    loyalty = pd.Series(latent["Loy"].to_numpy(), index=responses[q.customer_id].to_numpy())
    transactions = simulate_transactions(loyalty, n_customers=n_customers, seed=seed)
    return Demo(questionnaire=q, questionnaire_path=path, responses=responses,
                transactions=transactions, population=population, seed=seed)
