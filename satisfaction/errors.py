"""Errors raised for bad input.

Every problem a user can fix in their own files is raised as an
:class:`InputError` (or a subclass). The command line turns it into one or two
lines on stderr and exit code 2; no traceback is shown unless ``--debug`` is
given. The message names the file, the row, the column, the value and what was
expected, so the user can go straight to the cell.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass
class InputError(Exception):
    """A problem in the user's input that stops the analysis.

    Parameters
    ----------
    message : str
        What is wrong and what was expected, in plain words.
    file : str, optional
        The file the problem is in.
    row : int, optional
        Row number as the user sees it in the file (for a CSV with a header
        line, the first data row is row 2).
    column : str, optional
        The column (or, for a YAML file, the key) holding the bad value.
    value : object, optional
        The offending value.
    line : int, optional
        Line number in a text file such as a questionnaire YAML.
    """

    message: str
    file: str | None = None
    row: int | None = None
    column: str | None = None
    value: Any = None
    line: int | None = None
    hint: str | None = field(default=None)

    def __post_init__(self) -> None:
        super().__init__(str(self))

    column_label = "column"

    def __str__(self) -> str:
        where: list[str] = []
        if self.file is not None:
            where.append(str(self.file))
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"{self.column_label} {self.column!r}")
        head = ", ".join(where)
        text = f"{head}: {self.message}" if head else self.message
        if self.value is not None:
            text += f" (value: {_short(self.value)})"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class SchemaError(InputError):
    """A questionnaire (or rule file) that does not follow the schema."""

    column_label = "key"


class UsageError(InputError):
    """A command-line or API argument that cannot be honoured.

    ``column`` names the option or argument (``"--factors"``), shown as
    ``option '--factors': ...``.
    """

    column_label = "option"
