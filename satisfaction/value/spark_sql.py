r"""DuckDB's reading of transactions in Spark SQL: the validation rules and exact amounts.

One source of truth, two renderers. The rules are data kept once in
:mod:`satisfaction.value.transactions` (MISSING_TEXTS, CURRENCY_PATTERN, the thousands,
decimal-comma and number patterns, _DATE_FORMATS, REASONS and their order); the
DuckDB loader renders them as DuckDB SQL, and the functions here render the same
data as Spark SQL (:func:`spark_blank_sql`, :func:`spark_trim_sql`,
:func:`spark_amount_sql`, :func:`spark_date_sql`), which
:func:`satisfaction.value.spark_validation.spark_transactions` runs. Transpiling the DuckDB
expressions with sqlglot (as is done for the customer-table query) does not work
here: sqlglot passes regexp_full_match, isfinite and try_strptime(text, [formats])
through unchanged, and Spark has none of them. What differs between the engines is
handled where it is rendered:

* Regular expressions: DuckDB uses RE2, Spark Java regex. Our patterns use only
  the common subset; two meanings differ and are rewritten by _java_regex: ``\s``
  (Java adds the vertical tab) and ``$`` (Java also matches before a final line
  break; ``\z`` does not). ``RLIKE`` finds, so full matches are anchored ``^(?:…)\z``.
* Dates: DuckDB's strptime reads every numeric field greedily with 1 to its width
  digits (``2024-3-1`` is a date, ``%Y`` reads 1-4 digits), a blank in the format
  matches one or more blanks, and trailing blanks are ignored. Java date patterns do
  not read that way, so each strptime format becomes a regular expression with
  possessive quantifiers (greedy, never giving digits back, as strptime); its fields
  are padded into ``yyyy-MM-dd HH:mm:ss``, which ``try_to_date`` checks (Feb 30, hour
  24 and second 60 are not dates). Year 0 is not a date on Spark (DuckDB reads
  ``0000-01-01`` as 1 BC); years have at most four digits on both.
* ANSI mode (on by default in Spark 4): the expressions use only try_cast,
  try_to_date and regular expressions, which never raise, so the result is the
  same with spark.sql.ansi.enabled true or false (tested both ways).

The amounts the customer table sums are read as DuckDB's decimal casts read them:
as 64-bit integers of millionths (:func:`_micros_sql`) when every sum stays below
2⁵³ millionths (:func:`_exact_in_millionths`), else as ``DECIMAL(38, 6)``
(:func:`_decimal_sql`), so that the sums are DuckDB's to the last bit.

See Also
--------
satisfaction.value.transactions : the rules, and their DuckDB rendering.
satisfaction.value.spark_validation : the validation, which runs these rules.
satisfaction.value.spark : the Spark engine, which re-exports the public names here.
"""

from __future__ import annotations

from typing import Literal

from satisfaction.errors import UsageError
from satisfaction.value.transactions import (
    _DATE_FORMATS,
    _DECIMAL_COMMA,
    _NUMBER,
    _THOUSANDS,
    CURRENCY_PATTERN,
    MISSING_TEXTS,
    SPACE_SEPARATORS,
)


def _lit(text: str) -> str:
    """A Spark SQL string literal (backslash escapes: ``''`` would concatenate)."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


_RE2_SPACE = "\\t\\n\\f\\r "


def _java_regex(pattern: str) -> str:
    """An RE2 pattern (as DuckDB reads it) rewritten so that Java reads it alike."""
    out, in_class, i = [], False, 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            pair = pattern[i:i + 2]
            if pair == "\\s":
                out.append(_RE2_SPACE if in_class else f"[{_RE2_SPACE}]")
            else:
                out.append(pair)
            i += 2
            continue
        if ch == "[" and not in_class:
            in_class = True
        elif ch == "]" and in_class:
            in_class = False
        elif ch == "$" and not in_class:
            ch = "\\z"
        out.append(ch)
        i += 1
    return "".join(out)


def _full_match(expr: str, pattern: str) -> str:
    """``regexp_full_match`` of DuckDB, in Spark SQL."""
    return f"({expr} RLIKE {_lit('^(?:' + _java_regex(pattern) + ')' + chr(92) + 'z')})"


#: The Unicode space separators (category Zs), which DuckDB's trim strips.
_ZS = SPACE_SEPARATORS


def spark_trim_sql(expr: str) -> str:
    """DuckDB's ``trim``: strips Unicode space separators (the space, the no-break
    space, the ideographic space U+3000, …), where Spark's plain ``trim`` strips the
    space only. A character-set trim, no regular expression."""
    return f"trim(BOTH {_lit(_ZS)} FROM CAST({expr} AS STRING))"


def spark_blank_sql(expr: str, is_text: bool) -> str:
    """Spark SQL: the cell is empty (NULL, or a text of MISSING_TEXTS when a text column)."""
    if not is_text:
        return f"({expr} IS NULL)"
    texts = ", ".join(_lit(t) for t in MISSING_TEXTS)
    return f"({expr} IS NULL OR lower({spark_trim_sql(expr)}) IN ({texts}))"


def _finite(expr: str) -> str:
    # NaN sorts above infinity in Spark, so this is false for NaN and ±inf alike
    return f"(CASE WHEN abs({expr}) < double('inf') THEN {expr} END)"


def spark_amount_sql(expr: str, is_text: bool) -> tuple[list[str], str]:
    """Spark SQL reading an amount like :func:`~satisfaction.value.transactions.amount_sql`.

    Returns the intermediate expressions (each to be computed in its own projection,
    each referring to the one before as ``{prev}``) and the final one, so that the
    text is cleaned once per row instead of once per rule.
    """
    if not is_text:
        return [], _finite(f"try_cast({expr} AS DOUBLE)")
    currency = _lit(_java_regex(CURRENCY_PATTERN))
    # Fast path, without regular expressions: a text of digits, signs, points and
    # exponents has nothing to strip or separate, and Java reads such a text as a
    # number exactly when it matches _NUMBER (its decimal grammar, without the type
    # suffixes, hex floats and Infinity that use other letters).
    raw = f"CAST({expr} AS STRING)"

    def plain(text: str) -> str:
        return f"translate({text}, '0123456789.+-eE', '') = ''"

    cleaned = (f"CASE WHEN {plain(raw)} THEN {raw} "
               f"ELSE regexp_replace({spark_trim_sql(expr)}, {currency}, '') END")
    s = "{prev}"
    separators = (f"CASE WHEN {plain(s)} THEN {s} "
                  f"WHEN {_full_match(s, _THOUSANDS)} THEN replace({s}, ',', '') "
                  f"WHEN {_full_match(s, _DECIMAL_COMMA)} THEN replace({s}, ',', '.') "
                  f"ELSE {s} END")
    number = (f"(CASE WHEN {plain(s)} OR {_full_match(s, _NUMBER)} "
              f"THEN try_cast({s} AS DOUBLE) END)")
    return [cleaned, separators], _finite(number)


_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
           "september", "october", "november", "december")
#: strptime numeric directives: (field, most digits read)
_NUMERIC_DIRECTIVES = {"Y": ("year", 4), "y": ("year2", 2), "m": ("month", 2),
                       "d": ("day", 2), "H": ("hour", 2), "M": ("minute", 2),
                       "S": ("second", 2), "f": ("fraction", 6)}


def strptime_regex(fmt: str) -> tuple[str, list[str]]:
    """A strptime format (DuckDB's reading) as a Java regular expression.

    Returns the pattern (anchored, to be used with RLIKE and regexp_extract) and the
    field read by each capturing group. Supported: ``%Y %y %m %d %H %M %S %f %b %B
    %%``, blanks and literal text; anything else raises a UsageError.
    """
    parts, fields, i = ["^"], [], 0
    while i < len(fmt):
        ch = fmt[i]
        if ch == "%" and i + 1 < len(fmt):
            d = fmt[i + 1]
            i += 2
            if d in _NUMERIC_DIRECTIVES:
                field_name, width = _NUMERIC_DIRECTIVES[d]
                parts.append(f"([0-9]{{1,{width}}}+)")
                fields.append(field_name)
            elif d == "b":
                parts.append("((?i:" + "|".join(m[:3] for m in _MONTHS) + "))")
                fields.append("month_name")
            elif d == "B":
                parts.append("((?i:" + "|".join(_MONTHS) + "))")
                fields.append("month_name")
            elif d == "%":
                parts.append("%")
            else:
                raise UsageError(f"the Spark engine reads dates written with %Y %y %m %d %H "
                                 f"%M %S %f %b %B, not %{d}", column="date_format", value=fmt)
            continue
        if ch.isspace():
            parts.append(f"[{_RE2_SPACE}]+")
        else:
            parts.append("\\Q" + ch + "\\E" if not ch.isalnum() else ch)
        i += 1
    parts.append(f"[{_RE2_SPACE}]*\\z")
    return "".join(parts), fields


def _strptime_sql(text: str, fmt: str) -> str:
    """Spark SQL: the date ``text`` holds in ``fmt``, NULL when it holds none."""
    pattern, fields = strptime_regex(fmt)

    def group(name: str) -> str | None:
        if name not in fields:
            return None
        return f"regexp_extract({text}, {_lit(pattern)}, {len(fields) - fields[::-1].index(name)})"

    year = group("year")
    if year is None and "year2" in fields:  # as strptime: 69-99 is 19xx, 00-68 is 20xx
        y2 = f"try_cast({group('year2')} AS INT)"
        year = f"CAST(CASE WHEN {y2} < 69 THEN 2000 + {y2} ELSE 1900 + {y2} END AS STRING)"
    month = group("month")
    if month is None and "month_name" in fields:
        name = f"lower(substr({group('month_name')}, 1, 3))"
        month = ("CASE " + " ".join(f"WHEN {name} = {_lit(m[:3])} THEN '{k}'"
                                    for k, m in enumerate(_MONTHS, start=1)) + " END")
    pieces = [(year, "1900", 4), (month, "1", 2), (group("day"), "1", 2),
              (group("hour"), "0", 2), (group("minute"), "0", 2), (group("second"), "0", 2)]
    padded = [f"lpad({p}, {w}, '0')" if p else _lit(default.rjust(w, "0"))
              for p, default, w in pieces]
    iso = (f"concat({padded[0]}, '-', {padded[1]}, '-', {padded[2]}, ' ', {padded[3]}, ':', "
           f"{padded[4]}, ':', {padded[5]})")
    return (f"(CASE WHEN {text} RLIKE {_lit(pattern)} "
            f"THEN try_to_date({iso}, 'yyyy-MM-dd HH:mm:ss') END)")


def spark_date_sql(expr: str, kind: Literal["date", "integer", "text"],
                   date_format: str | None = None) -> str:
    """Spark SQL reading a date like the DuckDB loader: date and timestamp columns are
    cast; integers are read as ``%Y%m%d``; text is tried against ``date_format`` or
    else each of ``_DATE_FORMATS`` in turn (the first that reads it wins)."""
    if kind == "date":
        return f"CAST({expr} AS DATE)"
    if kind == "integer":  # 19970101
        return _strptime_sql(f"CAST({expr} AS STRING)", "%Y%m%d")
    text = spark_trim_sql(expr)
    formats = (date_format,) if date_format else _DATE_FORMATS
    general = "coalesce(" + ", ".join(_strptime_sql(text, f) for f in formats) + ")"
    if date_format is None and formats[0] == "%Y-%m-%d":
        # the common case, ISO dates, by a look at the characters and a direct parse
        iso = (f"length({text}) = 10 AND substr({text}, 5, 1) = '-' AND "
               f"substr({text}, 8, 1) = '-' AND translate({text}, '0123456789', '') = '--' "
               f"AND substr({text}, 1, 4) <> '0000'")
        # Spark's own cast reads exactly this shape, twice as fast as a date pattern
        return f"(CASE WHEN {iso} THEN try_cast({text} AS DATE) ELSE {general} END)"
    return general


#: Spark types whose values the checked amount (a double) reads one to one: within
#: the amounts the rules keep (below MAX_AMOUNT), different values stay different.
EXACT_AS_DOUBLE = frozenset({"byte", "short", "integer", "long", "float", "double"})

#: Spark SQL: a negative amount that is 0 in millionths (the purchase test, amount >= 0,
#: would read it as a purchase in the integer sums, see _micros_sql).
TINY_NEGATIVE = "c__amount < 0 AND c__amount * CAST(1000000 AS DOUBLE) > -0.5"


def _exact_in_millionths(mass: float) -> bool:
    """Whether sums of amounts whose absolute values add up to at most ``mass`` stay
    below 2⁵³ millionths, where 64-bit integer sums and their doubles are exact
    (with a margin of 0.1% for the rounding of ``mass`` itself)."""
    return mass * 1e6 * 1.001 < 2.0**53



def _micros_sql(expr: str) -> str:
    """Spark SQL: a double amount as a 64-bit integer of millionths, as DuckDB casts a
    double to ``DECIMAL(·, 6)``: ``x · 10⁶`` computed in double and rounded half away
    from zero (checked against DuckDB on 800,000 values, ties included). Spark's
    ``round`` on doubles goes through a decimal text per row, and ``floor(m + 0.5)``
    is wrong for ``m = 0.49999999999999994``; so the ties (``m − trunc(m) = ±0.5``,
    exact in double) are rounded away from zero and every other value by ``rint``.
    Only for amounts whose sums stay below 2⁵³ millionths (the caller checks)."""
    m = f"({expr} * CAST(1000000 AS DOUBLE))"
    return (f"(CASE WHEN abs({m} - CAST({m} AS BIGINT)) = 0.5 "
            f"THEN CAST({m} AS BIGINT) + CAST(signum({m}) AS BIGINT) "
            f"ELSE CAST(rint({m}) AS BIGINT) END)")


#: 2⁵²: a double at least this large in absolute value is an integer.
_INTEGRAL_DOUBLE = "CAST(4503599627370496 AS DOUBLE)"


def _decimal_sql(expr: str) -> str:
    """Spark SQL: a double amount as the ``DECIMAL(38, 6)`` DuckDB's cast gives, for
    any amount the rules keep (below ``MAX_AMOUNT``, 10¹⁵).

    DuckDB computes ``m = x · 10⁶`` in double, rounds it half away from zero to an
    integer (as :func:`_micros_sql`; at 2⁵² and above ``m`` is an integer already) and
    takes that integer exactly (checked against DuckDB on 300,000 values from 10⁻⁶ to
    10¹⁵, ties included). Spark's own ``CAST(x AS DECIMAL(38, 6))`` rounds the
    double's shortest decimal text instead, which differs in the last millionth for
    amounts with more than six decimals. An integer ``m`` of 2⁶³ or more does not fit
    a BIGINT, so it is taken in two exact parts, ``m = a · 2³² + b``: ``m / 2³²`` and
    its floor are exact in double, and so is ``b`` (below 2³²). The millionths are then
    scaled by the exact decimal 10⁻⁶."""
    m = f"({expr} * CAST(1000000 AS DOUBLE))"
    high = f"floor({m} / CAST(4294967296 AS DOUBLE))"
    whole = (f"CAST({high} AS DECIMAL(38, 0)) * CAST(4294967296 AS DECIMAL(38, 0)) "
             f"+ CAST({m} - CAST({high} AS DOUBLE) * CAST(4294967296 AS DOUBLE) AS BIGINT)")
    return (f"CAST((CASE WHEN abs({m}) >= {_INTEGRAL_DOUBLE} THEN {whole} "
            f"ELSE CAST({_micros_sql(expr)} AS DECIMAL(38, 0)) END) "
            f"* CAST(0.000001 AS DECIMAL(7, 6)) AS DECIMAL(38, 6))")
