"""Questionnaire definitions: the YAML schema, its validation, and lavaan syntax.

A questionnaire is data, written in YAML (see the README for the format). It
names the scales, the constructs (first-order constructs with items, and
higher-order constructs whose children name them as ``parent``), the
structural paths in lavaan syntax, and the respondent attributes used for
group comparisons. :func:`load_questionnaire` reads and validates a file and
returns a :class:`Questionnaire`; every schema error names the file, the line
and the key.

Example
-------
>>> from satisfaction.questionnaire import load_questionnaire
>>> q = load_questionnaire("ecsi_bank")
>>> print(q.to_lavaan().splitlines()[1])
Image =~ imag1 + imag2 + imag3 + imag4 + imag5
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from satisfaction.diagnostics import Diagnostic
from satisfaction.errors import SchemaError

Stage = Literal["pre_sale", "in_sale", "post_sale", "outcome", "other"]
STAGES: tuple[str, ...] = ("pre_sale", "in_sale", "post_sale", "outcome", "other")
LANGUAGES: tuple[str, ...] = ("en", "zh")
#: Industries a questionnaire may declare as ``domain:``; the strategy rules word
#: their actions for it (industry-neutral texts otherwise).
DOMAINS: tuple[str, ...] = (
    "retail_bank", "insurance", "retail", "ecommerce", "manufacturing", "telecom",
    "utilities", "hospitality", "healthcare", "public_service",
)

_IDENT = re.compile(r"^[A-Za-z][A-Za-z0-9_.]*$")


class SchemaWarning(UserWarning):
    """A questionnaire that is valid but weak (for example a two-item construct).

    ``diagnostic`` holds the same finding as a
    :class:`~satisfaction.diagnostics.Diagnostic`, so the report words it from the
    catalogs.
    """

    def __init__(self, message: str, diagnostic: Diagnostic | None = None) -> None:
        super().__init__(message)
        self.diagnostic = diagnostic


class _Strict(BaseModel):
    # every number of a questionnaire is finite: ``min: .nan`` would exclude every
    # respondent, ``max: .inf`` would switch the range check off
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def _as_text(value: Any) -> Any:
    """Accept a plain string as English text."""
    if isinstance(value, str):
        return {"en": value}
    return value


class Text(_Strict):
    """Reader-facing text in English and (optionally) Chinese."""

    en: str
    zh: str | None = None

    def get(self, lang: str) -> str:
        """Return the text in ``lang``, falling back to English."""
        if lang == "zh" and self.zh:
            return self.zh
        return self.en


class Scale(_Strict):
    """A response scale: the smallest and largest admissible answer."""

    min: float
    max: float
    labels: dict[Literal["en", "zh"], list[str]] | None = None
    integer: bool = True


class Item(_Strict):
    """One questionnaire item (an observed indicator)."""

    id: str
    text: Text
    scale: str
    reverse: bool = False
    column: str | None = None
    expect: float | None = None
    #: a 0-10 likelihood-to-recommend question: the report shows its Net Promoter Score
    nps: bool = False
    #: ``text`` marks an open-ended question, which belongs under ``open_ended:``
    #: (refused here with that advice); scale items leave it out
    type: Literal["scale", "text"] | None = None

    _text = field_validator("text", mode="before")(_as_text)

    @property
    def source(self) -> str:
        """Column of the responses file holding this item."""
        return self.column or self.id


class OpenItem(_Strict):
    """An open-ended question (``open_ended:`` list): its answers are free text.

    They are kept as text, never read as numbers, and summarised as themes by
    :mod:`satisfaction.text`; an open-ended question is in no construct and no
    model. ``type`` may be given as ``text`` (the only value).
    """

    id: str
    text: Text
    type: Literal["text"] = "text"
    column: str | None = None

    _text = field_validator("text", mode="before")(_as_text)

    @property
    def source(self) -> str:
        """Column of the responses file holding the answers."""
        return self.column or self.id


#: What a construct measures in the model, when it matters to the analysis: the
#: index, the value link, the report and the rules find the satisfaction and
#: loyalty constructs by these roles, never by their ids or names.
ROLES: tuple[str, ...] = ("satisfaction", "loyalty", "complaints", "value", "image",
                          "expectation", "quality")


class Construct(_Strict):
    """A latent construct: first-order (with items) or higher-order (children).

    ``role`` (optional, once per questionnaire): ``satisfaction``, ``loyalty``,
    ``complaints``, ``value``, ``image``, ``expectation`` or ``quality``.

    ``mode``: ``reflective`` (default; the items, or children, reflect the
    construct: PLS Mode A, lavaan ``=~``) or ``formative`` (they form it: PLS
    Mode B, ``<~``; estimated by PLS only).
    """

    id: str
    name: Text
    stage: Stage = "other"
    mode: Literal["reflective", "formative"] = "reflective"
    role: Literal["satisfaction", "loyalty", "complaints", "value", "image", "expectation",
                  "quality"] | None = None
    parent: str | None = None
    description: Text | None = None
    items: list[Item] = Field(default_factory=list)

    _name = field_validator("name", "description", mode="before")(_as_text)


class Group(_Strict):
    """A respondent attribute used for group comparisons."""

    id: str
    type: Literal["categorical", "numeric"] = "categorical"
    name: Text | None = None
    column: str | None = None
    codes: dict[str | int, Text] | None = None
    min: float | None = None
    max: float | None = None
    bands: list[float] | None = None

    _name = field_validator("name", mode="before")(_as_text)

    @field_validator("codes", mode="before")
    @classmethod
    def _codes(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: _as_text(v) for k, v in value.items()}
        return value

    @field_validator("bands")
    @classmethod
    def _bands(cls, value: list[float] | None) -> list[float] | None:
        """Band edges ``e0 < e1 < … < ek``: bands ``[e0, e1)``, …, ``[e(k-1), ek]``."""
        if value is not None and (len(value) < 2 or any(
                b <= a for a, b in pairwise(value))):
            raise ValueError(f"bands {value} must be at least two increasing edges, e.g. "
                             "[18, 30, 45, 60, 75] (bands [18, 30), ..., [60, 75])")
        return value

    @property
    def source(self) -> str:
        """Column of the responses file holding this attribute."""
        return self.column or self.id

    def label(self, code: Any, lang: str = "en") -> str:
        """Reader-facing label of a code (the code itself when none is given)."""
        if self.codes:
            for key, text in self.codes.items():
                if str(key) == str(code) or _same_number(key, code):
                    return text.get(lang)
        return str(code)


def _same_number(a: Any, b: Any) -> bool:
    try:
        return float(a) == float(b)
    except (TypeError, ValueError):
        return False


class Screening(_Strict):
    """Respondent-level data-quality screens and their thresholds.

    ``invalid_cells`` decides what an item answer that is not a number or lies
    outside its scale does: ``missing`` (default) sets that one answer to
    missing and keeps the respondent; ``exclude`` excludes the respondent (the
    strict rule).
    """

    max_missing: float = Field(default=0.5, ge=0.0, le=1.0)
    invalid_cells: Literal["missing", "exclude"] = "missing"
    straightlining: bool = True
    min_items_straightlining: int = Field(default=5, ge=2)
    min_respondents: int = Field(default=30, ge=1)


class FitCriteria(_Strict):
    """Cut-offs below (CFI, TLI) or above (RMSEA, SRMR) which a model fit is poor.

    Defaults: the "acceptable" limits usually cited after Hu & Bentler (1999)
    (CFI, TLI ≥ 0.90; RMSEA ≤ 0.08; SRMR ≤ 0.10). A fit that misses one is a
    caution on the structural model, not an invalidation.
    """

    cfi: float = Field(default=0.90, gt=0.0, le=1.0)
    tli: float = Field(default=0.90, gt=0.0, le=1.0)
    rmsea: float = Field(default=0.08, gt=0.0, lt=1.0)
    srmr: float = Field(default=0.10, gt=0.0, lt=1.0)


class Weighting(_Strict):
    """Respondent weights made from population margins (``satisfaction.weights``).

    ``margins``: ``{group id: {code: share}}``, each variable a categorical group of
    the questionnaire, its shares positive and summing to 1 (within 0.01; they are
    rescaled to sum exactly to 1). ``method: poststratify`` takes one variable.
    ``trim: [low, high]``: bounds on the weights (mean 1), ``0 <= low < 1 < high``.
    """

    method: Literal["rake", "poststratify"] = "rake"
    margins: dict[str, dict[str | int, float]]
    trim: list[float] | None = None
    max_iterations: int = Field(default=100, ge=1, le=10_000)
    tolerance: float = Field(default=1e-8, gt=0.0, lt=1.0)


class _QuestionnaireModel(_Strict):
    id: str
    title: Text
    description: Text | None = None
    respondent_id: str = "respondent"
    customer_id: str | None = None
    scales: dict[str, Scale]
    constructs: list[Construct]
    paths: list[str] = Field(default_factory=list)
    groups: list[Group] = Field(default_factory=list)
    checks: list[Item] = Field(default_factory=list)
    observed: list[Item] = Field(default_factory=list)
    #: open-ended questions (free-text answers, summarised as themes)
    open_ended: list[OpenItem] = Field(default_factory=list)
    screening: Screening = Field(default_factory=Screening)
    fit_criteria: FitCriteria = Field(default_factory=FitCriteria)
    domain: str | None = None
    #: construct id -> benchmark or target index (0-100) the report compares with
    benchmarks: dict[str, float] = Field(default_factory=dict)
    estimator: Literal["pls", "sem"] | None = None
    weighting: Weighting | None = None
    #: a column of the responses holding each respondent's weight
    weight: str | None = None

    _title = field_validator("title", "description", mode="before")(_as_text)


@dataclass(frozen=True)
class Regression:
    """One structural regression ``lhs ~ rhs1 + rhs2``."""

    lhs: str
    rhs: tuple[str, ...]
    line: str


def parse_path(line: str) -> Regression:
    """Parse one lavaan regression line such as ``Sat ~ PreSale + a*InSale``.

    Coefficient labels and fixed values (``a*X``, ``0.5*X``) are kept in the
    line for lavaan but removed from the variable names returned.
    """
    if line.count("~") != 1 or "=~" in line or "~~" in line:
        raise ValueError("expected one regression of the form 'Y ~ X1 + X2'")
    lhs, rhs = (part.strip() for part in line.split("~"))
    if not _IDENT.match(lhs):
        raise ValueError(f"{lhs!r} is not a variable name")
    names: list[str] = []
    for term in rhs.split("+"):
        term = term.strip()
        if "*" in term:
            term = term.split("*", 1)[1].strip()
        if not _IDENT.match(term):
            raise ValueError(f"{term!r} is not a variable name")
        names.append(term)
    return Regression(lhs=lhs, rhs=tuple(names), line=line.strip())


class Questionnaire:
    """A validated questionnaire definition.

    Build it with :func:`load_questionnaire` (from a YAML file) or
    :meth:`Questionnaire.from_dict`. Attributes mirror the YAML keys.
    """

    def __init__(self, model: _QuestionnaireModel, source: str | None = None) -> None:
        self._model = model
        self.source = source
        self.id: str = model.id
        self.title: Text = model.title
        self.description: Text | None = model.description
        self.respondent_id: str = model.respondent_id
        self.customer_id: str | None = model.customer_id
        self.scales: dict[str, Scale] = dict(model.scales)
        self.constructs: list[Construct] = list(model.constructs)
        self.groups: list[Group] = list(model.groups)
        self.checks: list[Item] = list(model.checks)
        self.observed: list[Item] = list(model.observed)
        #: open-ended questions, in file order (:class:`OpenItem`)
        self.open_ended: list[OpenItem] = list(model.open_ended)
        self.screening: Screening = model.screening
        #: fit cut-offs of the structural model (index -> threshold)
        self.fit_criteria: dict[str, float] = model.fit_criteria.model_dump()
        self.regressions: list[Regression] = [parse_path(p) for p in model.paths]
        #: the industry (one of :data:`DOMAINS`) or None: industry-neutral rule texts
        self.domain: str | None = model.domain
        #: construct id -> benchmark or target index (0-100), shown beside the index
        self.benchmarks: dict[str, float] = dict(model.benchmarks)
        #: ``pls`` or ``sem`` (covariance-based ML): the estimator the analysis should
        #: use; None leaves the choice to the pipeline
        self.estimator: str | None = model.estimator
        #: raking or post-stratification to population margins (or None)
        self.weighting: Weighting | None = model.weighting
        #: the responses column holding the respondents' weights (or None)
        self.weight: str | None = model.weight

    # -- construction -------------------------------------------------------
    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str | None = None) -> Questionnaire:
        """Validate a parsed YAML mapping (no line numbers in errors)."""
        return _build(data, source=source, lines={})

    # -- look-ups -----------------------------------------------------------
    @property
    def first_order(self) -> list[Construct]:
        """Constructs measured directly by items, in file order."""
        return [c for c in self.constructs if c.items]

    @property
    def higher_order(self) -> list[Construct]:
        """Constructs measured by other constructs, in file order."""
        return [c for c in self.constructs if not c.items]

    def role(self, role: str) -> str | None:
        """The id of the construct declared with this ``role``, or ``None``."""
        return next((c.id for c in self.constructs if c.role == role), None)

    def construct(self, construct_id: str) -> Construct:
        """The construct with this id."""
        for c in self.constructs:
            if c.id == construct_id:
                return c
        raise KeyError(construct_id)

    def children(self, construct_id: str) -> list[Construct]:
        """Constructs whose parent is ``construct_id``."""
        return [c for c in self.constructs if c.parent == construct_id]

    @property
    def items(self) -> list[Item]:
        """All construct items, in file order (attention checks excluded)."""
        return [item for c in self.first_order for item in c.items]

    @property
    def analysed_items(self) -> list[Item]:
        """Construct items followed by single observed variables used in paths."""
        return [*self.items, *self.observed]

    def item_scale(self, item: Item) -> Scale:
        """The scale of an item."""
        return self.scales[item.scale]

    def items_of(self, construct_id: str) -> list[Item]:
        """Items of a construct; for a higher-order one, its children's items."""
        c = self.construct(construct_id)
        if c.items:
            return list(c.items)
        return [i for child in self.children(construct_id) for i in self.items_of(child.id)]

    def construct_of_item(self) -> dict[str, str]:
        """Map item id to its construct id."""
        return {item.id: c.id for c in self.first_order for item in c.items}

    def group(self, group_id: str) -> Group:
        """The group variable with this id (or whose column is ``group_id``)."""
        for g in self.groups:
            if group_id in (g.id, g.source):
                return g
        raise KeyError(group_id)

    def stage_of(self, construct_id: str) -> str:
        """Stage of a construct."""
        return self.construct(construct_id).stage

    @property
    def structural_constructs(self) -> list[str]:
        """Constructs that appear in the structural paths, in order of appearance."""
        seen: list[str] = []
        for reg in self.regressions:
            for name in (*reg.rhs, reg.lhs):
                if name not in seen:
                    seen.append(name)
        return seen

    # -- lavaan -------------------------------------------------------------
    def measurement_syntax(self) -> list[str]:
        """Measurement part: one ``F =~ i1 + i2`` line per first-order construct."""
        return [f"{c.id} =~ " + " + ".join(i.id for i in c.items) for c in self.first_order]

    def higher_order_syntax(self) -> list[str]:
        """Higher-order part: ``G =~ F1 + F2`` for every construct with children."""
        lines = []
        for c in self.higher_order:
            kids = self.children(c.id)
            lines.append(f"{c.id} =~ " + " + ".join(k.id for k in kids))
        return lines

    def structural_syntax(self) -> list[str]:
        """Structural part: the regressions as written in the file."""
        return [r.line for r in self.regressions]

    def to_lavaan(self, structural: bool = True) -> str:
        """The whole model in lavaan syntax.

        Items are named by their id: the responses loader renames the file's
        columns to item ids and reverse-codes reverse-worded items, so every
        loading is expected to be positive.

        Parameters
        ----------
        structural : bool
            Include the structural regressions. Without them the model is the
            confirmatory factor analysis (latent covariances free).
        """
        lines = ["# measurement", *self.measurement_syntax()]
        if self.higher_order:
            lines += ["# higher-order", *self.higher_order_syntax()]
        if structural and self.regressions:
            lines += ["# structural", *self.structural_syntax()]
        return "\n".join(lines) + "\n"

    def to_dict(self) -> dict[str, Any]:
        """The validated definition as plain data."""
        return self._model.model_dump(mode="json", exclude_none=True)


# -- YAML with line numbers ----------------------------------------------------

#: Aliases (``*name``) a questionnaire or rule file may hold.
MAX_ALIASES = 100
#: Values the aliases may add to the document when expanded (a "billion laughs"
#: file of a few hundred bytes expands to billions).
MAX_ALIAS_VALUES = 10_000
#: Nesting depth of mappings and lists.
MAX_DEPTH = 50


class _Refused(Exception):
    """A YAML document the safe loader will not read (line, message)."""

    def __init__(self, line: int | None, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.line = line
        self.message = message
        self.key = key


def _mark_line(mark: Any) -> int | None:
    return None if mark is None else int(mark.line) + 1


class _SafeLoader(yaml.SafeLoader):
    """PyYAML's safe loader with budgets and without silent overwrites.

    * at most :data:`MAX_ALIASES` aliases, adding at most
      :data:`MAX_ALIAS_VALUES` values when expanded, and no alias to the node
      that contains it (counted while composing, so a bomb is refused at the
      alias that crosses the budget, before anything is expanded);
    * at most :data:`MAX_DEPTH` levels of nesting;
    * no key twice in one mapping (PyYAML keeps the last one).
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._aliases = 0
        self._alias_values = 0
        self._depth = 0
        self._open: set[str] = set()
        self._weight: dict[int, int] = {}

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        line = _mark_line(event.start_mark)
        if isinstance(event, yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise _Refused(line, f"more than {MAX_ALIASES} aliases (*name); "
                                     "write the values out instead")
            if event.anchor in self._open:
                raise _Refused(line, f"alias *{event.anchor} refers to the value that "
                                     "contains it (a loop)")
            node = super().compose_node(parent, index)
            self._alias_values += self._weight.get(id(node), 1)
            if self._alias_values > MAX_ALIAS_VALUES:
                raise _Refused(line, f"the aliases (*name) expand to more than "
                                     f"{MAX_ALIAS_VALUES:,} values; write the values out "
                                     "instead")
            return node
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise _Refused(line, f"nested more than {MAX_DEPTH} levels deep")
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            self._open.add(anchor)
        node = super().compose_node(parent, index)
        if anchor is not None:
            self._open.discard(anchor)
        self._depth -= 1
        self._weight[id(node)] = 1 + sum(self._weight.get(id(child), 1)
                                         for child in _children(node))
        return node

    def compose_mapping_node(self, anchor: Any) -> Any:
        node = super().compose_mapping_node(anchor)
        seen: dict[Any, int | None] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == MERGE_TAG:
                continue
            key = self.construct_object(key_node)
            try:
                hash(key)
            except TypeError:  # pragma: no cover - scalars construct to hashable values
                continue
            line = _mark_line(key_node.start_mark)
            if key in seen:
                raise _Refused(line, f"key {key_node.value!r} appears twice in the same "
                                     f"mapping (line {seen[key]} and line {line}); "
                                     "YAML would keep only the last", key=str(key_node.value))
            seen[key] = line
        return node

    def construct_object(self, node: Any, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, TypeError, OverflowError) as exc:  # e.g. a date 2024-13-45
            value = node.value if isinstance(node, yaml.ScalarNode) else node.id
            raise _Refused(_mark_line(node.start_mark),
                           f"not valid YAML: cannot read {value!r} ({exc})") from None


MERGE_TAG = "tag:yaml.org,2002:merge"


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def read_yaml(text: str, source: str | None = None,
              ) -> tuple[Any, dict[tuple[Any, ...], int]]:
    """Parse YAML safely and map every key path to its line.

    The loader is PyYAML's safe loader (no Python objects) with budgets: at
    most :data:`MAX_ALIASES` aliases adding at most :data:`MAX_ALIAS_VALUES`
    values, at most :data:`MAX_DEPTH` levels, and no duplicate keys. Used for
    questionnaires and rule files.

    Parameters
    ----------
    text : str
        The document.
    source : str, optional
        File name for the error messages.

    Returns
    -------
    (data, lines)
        The parsed document (None when empty) and ``{key path: line}`` (1-based;
        ``()`` is the document).

    Raises
    ------
    SchemaError
        Not valid YAML, or refused by a budget; naming the file and the line.
    """
    loader: _SafeLoader | None = None
    try:
        loader = _SafeLoader(text)
        node = loader.get_single_node()
        data = None if node is None else loader.construct_document(node)
    except _Refused as exc:
        raise SchemaError(exc.message, file=source, line=exc.line, column=exc.key) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = ", ".join(p for p in (exc.context, exc.problem) if p) or type(exc).__name__
        raise SchemaError(f"not valid YAML: {problem}", file=source,
                          line=_mark_line(mark)) from None
    except yaml.YAMLError as exc:  # a ReaderError: a character YAML does not allow
        position = getattr(exc, "position", None)
        line = None if position is None else text.count("\n", 0, position) + 1
        problem = str(exc).splitlines()[0]
        raise SchemaError(f"not valid YAML: {problem}", file=source, line=line) from None
    except RecursionError:
        raise SchemaError(f"nested more than {MAX_DEPTH} levels deep", file=source) from None
    finally:
        if loader is not None:
            loader.dispose()
    lines: dict[tuple[Any, ...], int] = {}
    if node is not None:
        _node_lines(node, lines)
    return data, lines


def _node_lines(root: yaml.Node, out: dict[tuple[Any, ...], int]) -> None:
    """``{key path: line}`` of every value (iteratively: aliases are bounded, not shallow)."""
    stack: list[tuple[yaml.Node, tuple[Any, ...]]] = [(root, ())]
    while stack:
        node, path = stack.pop()
        out.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                key = key_node.value
                if not isinstance(key, str):
                    continue
                out.setdefault((*path, key), key_node.start_mark.line + 1)
                stack.append((value_node, (*path, key)))
        elif isinstance(node, yaml.SequenceNode):
            for index, child in enumerate(node.value):
                stack.append((child, (*path, index)))


def _line_of(lines: dict[tuple[Any, ...], int], path: tuple[Any, ...]) -> int | None:
    path = tuple(path)
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return lines.get(())


def _key_name(path: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in path) if path else "(top level)"


#: Suffixes of response files: given where the questionnaire goes, the arguments are swapped.
_DATA_SUFFIXES = (".csv", ".tsv", ".xlsx", ".xlsm", ".xls", ".sav", ".parquet")


def shipped_questionnaire(path: str | Path) -> Path:
    """``path`` itself, or the shipped questionnaire it names.

    A bare name without a folder (``ecsi_bank`` or ``ecsi_bank.yaml``) that is not
    a file in the working directory is looked up among the questionnaires shipped
    with the package (:data:`satisfaction.resources.QUESTIONNAIRES`), so that an
    installed package can run ``satisfaction validate ecsi_bank data.csv``.
    """
    from satisfaction.resources import QUESTIONNAIRES

    path = Path(path)
    if path.exists() or path.parent != Path("."):
        return path
    name = path.name if path.suffix.lower() in (".yaml", ".yml") else f"{path.name}.yaml"
    shipped = QUESTIONNAIRES / name
    return shipped if shipped.is_file() else path


def load_questionnaire(path: str | Path) -> Questionnaire:
    """Read and validate a questionnaire YAML file.

    Parameters
    ----------
    path : str or Path
        The YAML file, or the name of a shipped questionnaire (``cram``,
        ``acsi``, ``ecsi_bank``, ``ecsi_mobile``) when no file of that name
        exists in the working directory.

    Returns
    -------
    Questionnaire

    Raises
    ------
    SchemaError
        Naming the file, the line and the key of the first problem found.
    """
    path = shipped_questionnaire(path)
    source = str(path)
    if path.suffix.lower() in _DATA_SUFFIXES and path.is_file():  # arguments swapped
        raise SchemaError("this is a data file, not a questionnaire: the command takes the "
                          "questionnaire (YAML) first, then the responses", file=source)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise SchemaError("questionnaire file not found", file=source) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SchemaError(f"cannot read questionnaire: {exc}", file=source) from None
    data, lines = read_yaml(text, source)
    if not isinstance(data, dict):
        raise SchemaError("expected a mapping with keys id, title, scales, constructs",
                          file=source, line=1)
    return _build(data, source=source, lines=lines)


def _build(data: dict[str, Any], source: str | None,
           lines: dict[tuple[Any, ...], int]) -> Questionnaire:
    def fail(message: str, path: tuple[Any, ...], value: Any = None) -> SchemaError:
        return SchemaError(message, file=source, line=_line_of(lines, path),
                           column=_key_name(path), value=value)

    try:
        model = _QuestionnaireModel.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function")))
        if err["type"] == "extra_forbidden":
            raise fail(f"unknown key {loc[-1]!r}", loc) from None
        if err["type"] == "missing":
            raise fail(f"missing required key {loc[-1]!r}", loc[:-1]) from None
        raise fail(err["msg"], loc, err.get("input") if not isinstance(
            err.get("input"), dict | list) else None) from None
    _check_semantics(model, fail, source, lines)
    return Questionnaire(model, source=source)


def _check_semantics(model: _QuestionnaireModel, fail: Any, source: str | None,
                     lines: dict[tuple[Any, ...], int]) -> None:
    """Cross-reference checks pydantic cannot express."""
    if model.domain is not None and model.domain not in DOMAINS:
        raise fail(f"unknown domain {model.domain!r}; expected one of {', '.join(DOMAINS)}",
                   ("domain",), model.domain)
    for sid, scale in model.scales.items():
        if scale.min >= scale.max:
            raise fail(f"scale {sid!r} has min {scale.min:g} >= max {scale.max:g}",
                       ("scales", sid), scale.min)
        if scale.labels:
            points = scale.max - scale.min + 1
            for lang, labels in scale.labels.items():
                if len(labels) != points:
                    raise fail(f"scale {sid!r} has {points:g} points but {len(labels)} "
                               f"{lang} labels", ("scales", sid, "labels", lang))
    construct_ids: dict[str, int] = {}
    for ci, c in enumerate(model.constructs):
        if not _IDENT.match(c.id):
            raise fail(f"construct id {c.id!r} must start with a letter and hold only "
                       "letters, digits, '_' or '.'", ("constructs", ci, "id"), c.id)
        if c.id in construct_ids:
            raise fail(f"duplicate construct id {c.id!r}", ("constructs", ci, "id"), c.id)
        construct_ids[c.id] = ci
    role_owner: dict[str, str] = {}
    for ci, c in enumerate(model.constructs):
        if c.role is not None and c.role in role_owner:
            raise fail(f"role {c.role!r} is declared by two constructs: "
                       f"{role_owner[c.role]!r} and {c.id!r}", ("constructs", ci, "role"),
                       c.role)
        if c.role is not None:
            role_owner[c.role] = c.id
    item_owner: dict[str, str] = {}
    columns: dict[str, str] = {}
    for ci, c in enumerate(model.constructs):
        for ii, item in enumerate(c.items):
            where = ("constructs", ci, "items", ii)
            if not _IDENT.match(item.id):
                raise fail(f"item id {item.id!r} must start with a letter and hold only "
                           "letters, digits, '_' or '.'", (*where, "id"), item.id)
            if item.id in item_owner:
                other = item_owner[item.id]
                if other == c.id:
                    raise fail(f"duplicate item id {item.id!r} in construct {c.id!r}",
                               (*where, "id"), item.id)
                raise fail(f"item {item.id!r} is in two constructs: {other!r} and {c.id!r}",
                           (*where, "id"), item.id)
            if item.id in construct_ids:
                raise fail(f"item id {item.id!r} is also a construct id", (*where, "id"))
            item_owner[item.id] = c.id
            if item.source in columns:
                raise fail(f"column {item.source!r} is mapped to two items: "
                           f"{columns[item.source]!r} and {item.id!r}", (*where, "column"),
                           item.source)
            columns[item.source] = item.id
            if item.scale not in model.scales:
                raise fail(f"item {item.id!r} uses undefined scale {item.scale!r}",
                           (*where, "scale"), item.scale)
    for ki, item in enumerate(model.observed):
        where = ("observed", ki)
        if item.id in item_owner or item.id in construct_ids:
            raise fail(f"duplicate id {item.id!r}", (*where, "id"), item.id)
        if item.scale not in model.scales:
            raise fail(f"observed variable {item.id!r} uses undefined scale {item.scale!r}",
                       (*where, "scale"), item.scale)
        item_owner[item.id] = "(observed)"
    for ki, item in enumerate(model.checks):
        where = ("checks", ki)
        if item.id in item_owner or item.id in construct_ids:
            raise fail(f"duplicate id {item.id!r}", (*where, "id"), item.id)
        if item.expect is None:
            raise fail(f"attention check {item.id!r} needs 'expect': the answer it expects",
                       where)
        if item.scale not in model.scales:
            raise fail(f"check {item.id!r} uses undefined scale {item.scale!r}",
                       (*where, "scale"), item.scale)
        item_owner[item.id] = "(check)"
    for where, item in [*((("constructs", ci, "items", ii), it)
                          for ci, c in enumerate(model.constructs)
                          for ii, it in enumerate(c.items)),
                        *((("observed", ki), it) for ki, it in enumerate(model.observed)),
                        *((("checks", ki), it) for ki, it in enumerate(model.checks))]:
        if item.type == "text":
            raise fail(f"item {item.id!r} is 'type: text', an open-ended question; list it "
                       "under 'open_ended:' (its answers are analysed as themes, not as "
                       "a scale)", (*where, "type"), item.type)
    _check_open_ended(model, fail, item_owner, construct_ids, columns)
    for ci, c in enumerate(model.constructs):
        if c.parent is not None and c.parent not in construct_ids:
            raise fail(f"construct {c.id!r} names undefined parent {c.parent!r}",
                       ("constructs", ci, "parent"), c.parent)
        if c.mode == "formative" and model.estimator == "sem":
            raise fail(f"construct {c.id!r} is formative, which only the PLS estimator "
                       "estimates (as a composite); set 'estimator: pls' or make it "
                       "reflective", ("constructs", ci, "mode"), c.mode)
    _check_cycles(model, fail)
    for ci, c in enumerate(model.constructs):
        if c.parent is not None:
            if c.parent not in construct_ids:
                raise fail(f"construct {c.id!r} names undefined parent {c.parent!r}",
                           ("constructs", ci, "parent"), c.parent)
            if c.parent == c.id:
                raise fail(f"construct {c.id!r} is its own parent",
                           ("constructs", ci, "parent"), c.parent)
            parent = model.constructs[construct_ids[c.parent]]
            if parent.items:
                raise fail(f"construct {c.id!r} names {c.parent!r} as parent, but "
                           f"{c.parent!r} has items; a higher-order construct has none",
                           ("constructs", ci, "parent"), c.parent)
        children = [k for k in model.constructs if k.parent == c.id]
        n = len(c.items) if c.items else len(children)
        kind = "items" if c.items else "child constructs"
        if n < 2:
            raise fail(f"construct {c.id!r} has {n} {kind}; at least two are needed "
                       "(three or more recommended)", ("constructs", ci), n)
        if n < 3:
            line = _line_of(lines, ("constructs", ci))
            where = f"{source}, line {line}" if source else _key_name(("constructs", ci))
            finding = Diagnostic("few_items", "caution",
                                 {"where": where, "construct": c.id, "n": n,
                                  "kind": "items" if c.items else "children"},
                                 constructs=("construct",), labels={"kind": "warnings.words"})
            warnings.warn(SchemaWarning(f"{where}: construct {c.id!r} has only "
                                        f"{n} {kind}; three or more are recommended",
                                        finding), stacklevel=4)
    group_ids: set[str] = set()
    for gi, g in enumerate(model.groups):
        if g.id in group_ids:
            raise fail(f"duplicate group id {g.id!r}", ("groups", gi, "id"), g.id)
        group_ids.add(g.id)
        if g.type == "numeric" and g.min is not None and g.max is not None and g.min >= g.max:
            raise fail(f"group {g.id!r} has min >= max", ("groups", gi, "min"), g.min)
    _check_weighting(model, fail, item_owner)
    for key, value in model.benchmarks.items():
        if key not in construct_ids:
            raise fail(f"benchmark names undefined construct {key!r}", ("benchmarks", key),
                       key)
        if not 0 <= value <= 100:
            raise fail(f"benchmark of {key!r} is {value:g}; expected an index from 0 to 100",
                       ("benchmarks", key), value)
    for where, item in [*((("constructs", ci, "items", ii), it)
                          for ci, c in enumerate(model.constructs)
                          for ii, it in enumerate(c.items)),
                        *((("observed", ki), it) for ki, it in enumerate(model.observed))]:
        scale = model.scales[item.scale]
        if item.nps and (scale.min != 0 or scale.max != 10):
            raise fail(f"item {item.id!r} is tagged 'nps: true' but its scale {item.scale!r} "
                       f"runs {scale.min:g} to {scale.max:g}; the Net Promoter Score needs "
                       "a 0 to 10 scale", (*where, "nps"), item.nps)
    known = set(construct_ids) | set(item_owner) | group_ids
    for pi, line in enumerate(model.paths):
        try:
            reg = parse_path(line)
        except ValueError as exc:
            raise fail(f"path {line!r}: {exc}", ("paths", pi), line) from None
        for name in (reg.lhs, *reg.rhs):
            if name not in known:
                raise fail(f"path {line!r} names undefined construct {name!r}",
                           ("paths", pi), name)


def _check_open_ended(model: _QuestionnaireModel, fail: Any, item_owner: dict[str, str],
                      construct_ids: dict[str, int], columns: dict[str, str]) -> None:
    """Open-ended questions: identifiers, and columns of their own."""
    reserved = {model.respondent_id: "the respondent id", **(
        {model.customer_id: "the customer id"} if model.customer_id else {}), **(
        {model.weight: "the weight column"} if model.weight else {})}
    taken = {**{check.source: check.id for check in model.checks},
             **{o.source: o.id for o in model.observed},
             **{g.source: g.id for g in model.groups}, **columns}
    seen: dict[str, str] = {}
    for ki, item in enumerate(model.open_ended):
        where = ("open_ended", ki)
        if not _IDENT.match(item.id):
            raise fail(f"open-ended question id {item.id!r} must start with a letter and "
                       "hold only letters, digits, '_' or '.'", (*where, "id"), item.id)
        if item.id in item_owner or item.id in construct_ids or item.id in seen.values():
            raise fail(f"duplicate id {item.id!r}", (*where, "id"), item.id)
        if item.source in reserved:
            raise fail(f"open-ended question {item.id!r} reads column {item.source!r}, "
                       f"which is {reserved[item.source]}", (*where, "column"), item.source)
        if item.source in taken or item.source in seen:
            other = taken.get(item.source) or seen[item.source]
            raise fail(f"column {item.source!r} is mapped to two questions: {other!r} and "
                       f"{item.id!r}", (*where, "column"), item.source)
        seen[item.source] = item.id


def _check_weighting(model: _QuestionnaireModel, fail: Any, item_owner: dict[str, str]
                     ) -> None:
    """``weighting`` names categorical groups, their codes and shares that sum to 1;
    ``weight`` names a column that is no item; not both."""
    if model.weight is not None:
        if model.weighting is not None:
            raise fail("give either 'weight' (a weight column) or 'weighting' (margins to "
                       "rake to), not both", ("weight",), model.weight)
        if not model.weight.strip() or model.weight in item_owner or \
                model.weight == model.respondent_id:
            raise fail("'weight' must name a column of its own, not an item or the "
                       "respondent id", ("weight",), model.weight)
    spec = model.weighting
    if spec is None:
        return
    groups = {g.id: g for g in model.groups}
    if not spec.margins:
        raise fail("'weighting' needs at least one margin: {group id: {code: share}}",
                   ("weighting", "margins"))
    if spec.method == "poststratify" and len(spec.margins) != 1:
        raise fail(f"post-stratification takes one variable; {len(spec.margins)} are given "
                   "(use method: rake for several)", ("weighting", "method"), spec.method)
    for variable, shares in spec.margins.items():
        where = ("weighting", "margins", variable)
        group = groups.get(variable)
        if group is None:
            raise fail(f"margin variable {variable!r} is not a group of the questionnaire; "
                       f"declare it under 'groups' (known: {', '.join(groups) or 'none'})",
                       where, variable)
        if group.type != "categorical":
            raise fail(f"margin variable {variable!r} is a numeric group; raking needs "
                       "categories", where, variable)
        if len(shares) < 2:
            raise fail(f"margin {variable!r} needs at least two categories", where)
        declared = {str(k) for k in group.codes} if group.codes else None
        for code, share in shares.items():
            if declared is not None and str(code) not in declared:
                raise fail(f"code {code!r} of margin {variable!r} is not one of the group's "
                           f"codes ({', '.join(sorted(declared))})", (*where, code), code)
            if not 0 < share < 1:
                raise fail(f"share of {variable!r} = {code!r} is {share:g}; expected a share "
                           "between 0 and 1", (*where, code), share)
        total = sum(shares.values())
        if abs(total - 1) > 0.01:
            raise fail(f"the shares of margin {variable!r} sum to {total:g}; expected 1",
                       where, total)
    if spec.trim is not None:
        trim = spec.trim
        if len(trim) != 2 or not 0 <= trim[0] < 1 < trim[1]:
            raise fail("'trim' takes two bounds [low, high] on weights of mean 1, with "
                       "0 <= low < 1 < high", ("weighting", "trim"), str(trim))


def _check_cycles(model: _QuestionnaireModel, fail: Any) -> None:
    parents = {c.id: c.parent for c in model.constructs}
    for ci, c in enumerate(model.constructs):
        seen = {c.id}
        node = c.parent
        while node is not None:
            if node in seen:
                raise fail(f"construct {c.id!r}: parent chain loops back to {node!r}",
                           ("constructs", ci, "parent"), node)
            seen.add(node)
            node = parents.get(node)


def iter_questionnaires(folder: str | Path) -> Iterator[Path]:
    """YAML files in a folder, sorted by name."""
    yield from sorted(Path(folder).glob("*.yaml"))
