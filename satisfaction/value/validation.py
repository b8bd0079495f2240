"""Holdout validation of the purchase model: is it fit for these customers?

The observation window of the transactions is split in two. The purchase model
(BG/NBD, or Pareto/NBD) is fitted on the first part, the calibration period,
and predicts for every customer seen in it the repeat purchases of the second
part, the holdout period; :func:`~satisfaction.value.clv.holdout_check`
compares them with the purchases the customers actually made, overall and by
the number of repeat purchases in calibration (0, 1, ..., 7+). This is the
validation of Fader, Hardie & Lee (2005a, "Counting your customers the easy
way", Marketing Science 24(2), the conditional expectations of their figure 4)
on the CDNOW sample, whose 78 weeks they split into 39 weeks of calibration
and 39 of holdout: :data:`HOLDOUT_SHARE` keeps that split, and on the CDNOW
sample the split date is theirs (1997-09-30; ``tests/test_value_validation.py``).

The customer-value figures of the report (P(alive), expected purchases, CLV)
come from the model fitted on the whole window; this validation fits the same
model a second time, on the calibration part only, so that what it predicts can
be checked against what happened.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

from satisfaction.diagnostics import Diagnostic
from satisfaction.errors import InputError
from satisfaction.io import to_jsonable
from satisfaction.value.clv import HoldoutCheck, fit_bgnbd, fit_pareto_nbd, holdout_check
from satisfaction.value.customers import TIME_UNITS, customer_table
from satisfaction.value.transactions import Transactions

#: Share of the observation window held out: its second half, as in Fader, Hardie &
#: Lee's (2005a) CDNOW analysis (39 of 78 weeks).
HOLDOUT_SHARE = 0.5
#: The shortest holdout (and calibration) period, in time units, worth a check.
MIN_PERIOD_UNITS = 4
#: Purchase models that can be validated, in the order the value pipeline prefers.
PURCHASE_MODELS = ("bgnbd", "pareto_nbd")


@dataclass
class HoldoutValidation:
    """The purchase model fitted on the calibration period, checked on the holdout.

    Attributes
    ----------
    model : {"bgnbd", "pareto_nbd"}
    period_end, holdout_end : datetime.date
        Last day of the calibration period and of the holdout period (the last
        transaction date).
    time_unit : str
    check : HoldoutCheck or None
        Predicted vs actual holdout purchases (None when no check was possible:
        ``warnings`` says why).
    parameters : dict
        The calibration fit's parameters, log-likelihood and status.
    customers : int
        Customers with a purchase in the calibration period (the ones checked).
    first_seen_later : int
        Customers whose first purchase falls in the holdout period: the model
        cannot predict them, so they are not in the check.
    warnings : list[Diagnostic]
        Why no check was made, or the calibration fit's own diagnostics.
    """

    model: str
    period_end: dt.date
    holdout_end: dt.date
    time_unit: str
    check: HoldoutCheck | None
    parameters: dict[str, Any] = field(default_factory=dict)
    customers: int = 0
    first_seen_later: int = 0
    warnings: list[Diagnostic] = field(default_factory=list)

    @property
    def status(self) -> str:
        """The calibration fit's gate (``ok``, ``caution`` or ``invalid``); ``none``
        when no check was made."""
        return str(self.parameters.get("status", "none")) if self.check is not None \
            else "none"

    def to_dict(self) -> dict[str, Any]:
        """The JSON of the validation (plain values)."""
        return {
            "model": self.model, "period_end": self.period_end.isoformat(),
            "holdout_end": self.holdout_end.isoformat(), "time_unit": self.time_unit,
            "holdout_share": HOLDOUT_SHARE, "customers": int(self.customers),
            "first_purchase_in_holdout": int(self.first_seen_later),
            "status": self.status,
            "parameters": {k: to_jsonable(v) for k, v in self.parameters.items()},
            "check": None if self.check is None else self.check.to_dict(),
            "warnings": [w.to_dict() for w in self.warnings],
        }


def split_date(first: dt.date, last: dt.date, share: float = HOLDOUT_SHARE) -> dt.date:
    """The last calibration day: ``first + floor((1 - share) · (last - first))`` days.

    On the CDNOW sample (1997-01-01 .. 1998-06-30, 545 days) and ``share = 0.5``
    this is 1997-09-30, the split of Fader, Hardie & Lee (2005a).
    """
    if not 0.0 < share < 1.0:
        raise ValueError(f"the holdout share must be between 0 and 1, not {share}")
    return first + dt.timedelta(days=math.floor((1.0 - share) * (last - first).days))


def holdout_validation(transactions: Transactions, *, model: str = "bgnbd",
                       time_unit: str = "week",
                       share: float = HOLDOUT_SHARE) -> HoldoutValidation:
    """Fit ``model`` on the calibration part of the window and check it on the rest.

    Parameters
    ----------
    transactions : Transactions
        Loaded transactions (:func:`~satisfaction.value.transactions.load_transactions`).
    model : {"bgnbd", "pareto_nbd"}
        The purchase model to validate (the one the customer values come from).
    time_unit : {"day", "week", "month"}
    share : float
        Share of the window held out (default :data:`HOLDOUT_SHARE`, one half).

    Returns
    -------
    HoldoutValidation
        With ``check`` None and an ``info`` diagnostic ``clv_holdout_short`` when
        either period would be shorter than :data:`MIN_PERIOD_UNITS` time units, or
        ``clv_holdout_failed`` when the model cannot be fitted on the calibration
        period alone (e.g. no repeat purchase in it).

    Notes
    -----
    The check itself is :func:`~satisfaction.value.clv.holdout_check` (E[Y(t) | x,
    t_x, T] of FHL 2005a eq. 10 for BG/NBD); tested on the CDNOW sample against
    lifetimes' ``conditional_expected_number_of_purchases_up_to_time`` with the same
    parameters, and the 1,882 holdout repeat purchases of FHL 2005a.
    """
    if model not in PURCHASE_MODELS:
        raise ValueError(f"model must be one of {', '.join(PURCHASE_MODELS)}, not {model!r}")
    first, last = transactions.date_range
    if first is None or last is None:  # the loader refuses an empty file; a caller may not
        raise InputError("the transactions hold no dated purchase: no holdout check "
                         "can be made", file=transactions.log.source)
    if isinstance(first, dt.datetime):
        first, last = first.date(), last.date()  # type: ignore[union-attr]
    end = split_date(first, last, share)
    unit_days = TIME_UNITS[time_unit]
    shortest = min((end - first).days, (last - end).days) / unit_days
    result = HoldoutValidation(model=model, period_end=end, holdout_end=last,
                               time_unit=time_unit, check=None)
    if shortest < MIN_PERIOD_UNITS:
        result.warnings.append(Diagnostic("clv_holdout_short", "info", {
            "days": (last - first).days,
            "minimum": math.ceil(MIN_PERIOD_UNITS * unit_days / min(share, 1 - share))}))
        return result
    table = customer_table(transactions, period_end=end, time_unit=time_unit,  # type: ignore[arg-type]
                           holdout_end=last)
    data = table.purchasers
    result.customers, result.first_seen_later = len(data), table.first_seen_later
    x, tx, big_t = (data[c].to_numpy(dtype=float) for c in ("frequency", "t_x", "T"))
    try:
        fit = fit_bgnbd(x, tx, big_t) if model == "bgnbd" else fit_pareto_nbd(x, tx, big_t)
    except InputError as exc:
        result.warnings.append(Diagnostic("clv_holdout_failed", "info",
                                          {"reason": exc.message}))
        return result
    result.parameters = {k: v for k, v in fit.to_dict().items() if k != "warnings"}
    result.warnings += fit.warnings
    length = (last - end).days / unit_days
    result.check = holdout_check(fit, data, length)
    return result
