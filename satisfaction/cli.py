"""The ``satisfaction`` command.

Every analysis command has a Python function of the same name; the command
only parses arguments, calls it, prints a summary and writes JSON. Input errors
(:class:`~satisfaction.errors.InputError`) become one or two lines on stderr
and exit code 2; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import sys
import warnings

import typer
from typer.exceptions import TyperException

from satisfaction.commands import basic, demo
from satisfaction.commands import compare as compare_commands
from satisfaction.commands import fit as fit_commands
from satisfaction.commands import measure as measure_commands
from satisfaction.commands import report as report_commands
from satisfaction.commands import value as value_commands
from satisfaction.errors import InputError

app = typer.Typer(
    name="satisfaction",
    help="Survey and customer-satisfaction analysis: validate, measure, model, report.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)



@app.callback()
def _root() -> None:
    """Survey and customer-satisfaction analysis: validate, measure, model, report."""


# Each family of commands registers itself here, in the order shown by --help.
basic.register(app)
demo.register(app)
measure_commands.register(app)
fit_commands.register(app)
compare_commands.register(app)
value_commands.register(app)
report_commands.register(app)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code (0, 1 or 2)."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    if debug:
        args.remove("--debug")
    else:
        warnings.filterwarnings("ignore", category=FutureWarning)
        warnings.filterwarnings("ignore", category=DeprecationWarning)
    try:
        code = app(args=args, prog_name="satisfaction", standalone_mode=False)
    except InputError as exc:
        if debug:
            raise
        typer.echo(f"error: {exc}", err=True)
        return 2
    except typer.Exit as exc:
        return int(exc.exit_code or 0)
    except (typer.Abort, KeyboardInterrupt):
        typer.echo("aborted", err=True)
        return 130
    except TyperException as exc:  # usage errors: unknown option, missing argument
        if debug:
            raise
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            typer.echo(f"error: {exc}", err=True)
        return 2
    return code if isinstance(code, int) else 0


def run() -> None:
    """Entry point for the console script."""
    sys.exit(main())


if __name__ == "__main__":
    run()
