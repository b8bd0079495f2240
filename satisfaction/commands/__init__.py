"""Sub-commands of the ``satisfaction`` command, one module per family.

Each module exposes ``register(app)``, which adds its commands to the Typer
application; :mod:`satisfaction.cli` calls them in order.
"""

from __future__ import annotations

import os
import sys

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
