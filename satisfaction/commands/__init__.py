"""Sub-commands of the ``satisfaction`` command, one module per family.

Each module exposes ``register(app)``, which adds its commands to the Typer
application; :mod:`satisfaction.cli` calls them in order.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer
from rich.console import Console

#: Width of the printed summaries when the output is not a terminal (a file, a
#: pipe, a CI log): rich's default of 80 columns would cut numbers in the tables.
PIPE_WIDTH = 160


def make_console(stderr: bool = False) -> Console:
    """The console a command prints its summary on.

    On a terminal it takes the terminal's width; otherwise ``$COLUMNS`` when set,
    else :data:`PIPE_WIDTH`, so that tables written to a file keep every digit.
    """
    stream = sys.stderr if stderr else sys.stdout
    tty = hasattr(stream, "isatty") and stream.isatty()
    width = None if tty or os.environ.get("COLUMNS") else PIPE_WIDTH
    return Console(stderr=stderr, highlight=False, width=width)


def check_choice(option: str, value: object, choices: tuple[str, ...] | list[str]) -> None:
    """Refuse an option value outside ``choices``, naming the option (before any data
    are read)."""
    from satisfaction.errors import UsageError

    if value not in choices:
        raise UsageError(f"expected one of {', '.join(map(str, choices))}", column=option,
                         value=value)


def check_at_least(option: str, value: float | None, minimum: float,
                   what: str = "") -> None:
    """Refuse a number below ``minimum`` (``None`` means not given and passes)."""
    from satisfaction.errors import UsageError

    if value is not None and (value != value or value < minimum):  # NaN fails too
        raise UsageError(f"must be {what or f'at least {minimum}'}", column=option,
                         value=value)


#: ``--sheet`` and ``--header-row`` of every command reading responses (Excel only).
Sheet = Annotated[str | None, typer.Option(
    "--sheet", help="Excel responses: the sheet to read, by name or number (1 = first).")]
HeaderRow = Annotated[int | None, typer.Option(
    "--header-row", help="Excel or CSV responses: the row (CSV: line) holding the column "
    "names (rows above it are skipped; default the first filled row, a title row above it "
    "skipped).")]
