"""The ``satisfaction`` command.

Every analysis command has a Python function of the same name in
:mod:`satisfaction.api`; the command (:mod:`satisfaction.commands`) only parses
its options, calls it, prints a summary and writes the outputs.

:func:`main` is the one error boundary of every command. Exit codes:

====  =====================================================================
0     success
1     the data were read but are not usable (``validate``)
2     usage or input error: :class:`~satisfaction.errors.InputError` (one or
      two lines naming the file, row, column or option), a bad option, an
      output that cannot be written, a file the system refuses (``OSError``)
3     internal error: any other exception is a bug; one line says so and asks
      for a report, ``--debug`` shows the traceback
130   interrupted (Ctrl-C); 143 terminated (``SIGTERM``, what ``timeout``
      sends); 129 hang-up (``SIGHUP``)
====  =====================================================================

Before a command reads any data, every output it was given is checked
(:func:`satisfaction.io.check_outputs`): writable, not a folder, not under a
regular file, not one of the inputs, not given twice. On ``SIGTERM`` and
``SIGHUP`` the worker processes (bootstrap pool, the side-stage process and any
other child) are stopped, the temporary output files are removed, and the
command exits 143 (129); a forked worker that receives the signal exits at once.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import os
import signal
import sys
import time
import traceback
import typing
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer
from typer.exceptions import TyperException

from satisfaction.commands import basic, demo
from satisfaction.commands import compare as compare_commands
from satisfaction.commands import fit as fit_commands
from satisfaction.commands import measure as measure_commands
from satisfaction.commands import report as report_commands
from satisfaction.commands import value as value_commands
from satisfaction.commands import weight as weight_commands
from satisfaction.errors import InputError
from satisfaction.io import check_output, check_outputs, remove_live_temps

app = typer.Typer(
    name="satisfaction",
    help="Survey and customer-satisfaction analysis: validate, measure, model, report.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

#: Exit codes (README "Exit codes").
EXIT_OK, EXIT_UNUSABLE, EXIT_INPUT, EXIT_INTERNAL = 0, 1, 2, 3

#: Parameters (or the options that set them) naming files a command writes; every
#: other ``Path`` parameter is an input.
OUTPUT_PARAMETERS = frozenset({"out", "json", "json_path", "html", "excel", "scores"})
OUTPUT_OPTIONS = frozenset({"--out", "--json", "--html", "--excel", "--scores"})
#: (command, parameter) pairs whose output is a folder, not a file.
FOLDER_OUTPUTS = frozenset({("demo", "out")})

INTERNAL_HINT = ("this is a bug in satisfaction, not a problem in your files; please report "
                 "it with the command you ran (run again with --debug to see the traceback)")


@app.callback()
def _root() -> None:
    """Survey and customer-satisfaction analysis: validate, measure, model, report."""


# Each family of commands registers itself here, in the order shown by --help.
basic.register(app)
demo.register(app)
measure_commands.register(app)
fit_commands.register(app)
weight_commands.register(app)
compare_commands.register(app)
value_commands.register(app)
report_commands.register(app)


# -- outputs checked before any work -------------------------------------------------------

def _option_names(callback: Callable[..., Any]) -> dict[str, str]:
    """Parameter name → the option that sets it (``json_path`` → ``--json``)."""
    names: dict[str, str] = {}
    try:
        hints = typing.get_type_hints(callback, include_extras=True)
    except Exception:  # unresolvable hints: the default names
        hints = {}
    for name in inspect.signature(callback).parameters:
        names[name] = "--" + name.replace("_", "-")
        for meta in getattr(hints.get(name), "__metadata__", ()):
            # typer.Option("--json") inside Annotated keeps "--json" as ``default``
            first = getattr(meta, "default", None)
            decls = [d for d in (first, *(getattr(meta, "param_decls", ()) or ()))
                     if isinstance(d, str) and d.startswith("--")]
            if decls:
                names[name] = decls[0].split("/")[0]
            elif type(meta).__name__ == "ArgumentInfo":
                names[name] = name.upper()
    return names


def check_command_paths(command: str, arguments: dict[str, Any],
                        options: dict[str, str]) -> None:
    """Refuse unwritable outputs (and outputs onto inputs) of one command call."""
    outputs: dict[str, Any] = {}
    inputs: list[Path] = []
    for name, value in arguments.items():
        if not isinstance(value, str | Path):
            continue
        option = options.get(name, name)
        if (command, name) in FOLDER_OUTPUTS:
            check_output(value, option=option, folder=True)
        elif name in OUTPUT_PARAMETERS or option in OUTPUT_OPTIONS:
            outputs[option] = value
        elif isinstance(value, Path):
            inputs.append(value)
    check_outputs(outputs, inputs=inputs)


def _guarded(command: str, callback: Callable[..., Any]) -> Callable[..., Any]:
    # the signature and the option names are read when the command runs, not at import:
    # ``satisfaction --help`` needs neither (reading the type hints of every command
    # took a tenth of its time)
    @functools.wraps(callback)
    def run_command(*args: Any, **kwargs: Any) -> Any:
        bound = inspect.signature(callback).bind_partial(*args, **kwargs)
        check_command_paths(command, dict(bound.arguments), _option_names(callback))
        return callback(*args, **kwargs)

    return run_command


for _info in app.registered_commands:
    if _info.callback is not None and not hasattr(_info.callback, "__wrapped__"):
        _info.callback = _guarded(_info.name or _info.callback.__name__, _info.callback)


# -- processes: stop the workers with the command ------------------------------------------

class Terminated(BaseException):  # a signal, like KeyboardInterrupt
    """Raised in the main thread when the command receives SIGTERM or SIGHUP."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def child_pids(pid: int | None = None) -> list[int]:
    """Process ids whose parent is ``pid`` (default: this process), from /proc."""
    pid = os.getpid() if pid is None else pid
    found: list[int] = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return found
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if len(fields) > 1 and fields[1] == str(pid):
            found.append(int(entry))
    return found


def stop_children(grace: float = 2.0) -> None:
    """Terminate this process's worker processes; kill those still alive after ``grace`` s.

    multiprocessing workers (the bootstrap pool, the spawned side-stage process)
    get SIGTERM, then SIGKILL; any other child (a JVM, a helper) gets SIGTERM.
    The multiprocessing resource tracker ignores SIGTERM by design and exits by
    itself when this process and its workers are gone.
    """
    import multiprocessing
    from multiprocessing.connection import wait

    workers = multiprocessing.active_children()
    for p in workers:
        with contextlib.suppress(OSError, ValueError):
            p.terminate()
    sentinels = {p.sentinel: p for p in workers}
    deadline = time.monotonic() + grace
    while sentinels and time.monotonic() < deadline:
        for done in wait(list(sentinels), timeout=max(0.0, deadline - time.monotonic())):
            sentinels.pop(done, None)  # type: ignore[call-overload]
    for p in sentinels.values():
        with contextlib.suppress(OSError, ValueError):
            p.kill()
    for pid in child_pids():
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGTERM)


def die_with_parent(parent: int | None = None) -> bool:
    """Ask the kernel (Linux ``prctl(PR_SET_PDEATHSIG)``) to kill this process when its
    parent exits, even by ``SIGKILL``; exit at once if the parent is already gone.

    Called in every process the command forks (:func:`os.register_at_fork`) and at
    import in a spawned worker, so no worker outlives the command. Returns whether
    the request was made (``False`` off Linux).
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(1, int(signal.SIGKILL), 0, 0, 0) != 0:  # 1 = PR_SET_PDEATHSIG
            return False
    except (OSError, AttributeError):
        return False
    if parent is not None and os.getppid() != parent:  # died before prctl took effect
        os._exit(1)
    return True


#: Environment variable holding the pid of the process a spawned worker must die with
#: (spawned workers start a new interpreter: the pid is how they know their parent
#: is still the one that started them once they are far enough to ask).
PARENT_ENV = "SATISFACTION_PARENT_PID"
_FORK_PARENT = [0]
_AT_FORK = [False]


def _before_fork() -> None:
    import threading

    # the kernel signals a child when the *thread* that forked it ends: only forks
    # made by the main thread (which lives as long as the process) ask for it
    main = threading.current_thread() is threading.main_thread()
    _FORK_PARENT[0] = os.getpid() if main else 0


def _after_fork_in_child() -> None:
    if _FORK_PARENT[0]:
        die_with_parent(_FORK_PARENT[0])
        os.environ[PARENT_ENV] = str(os.getpid())


def _workers_die_with_parent() -> None:
    """Register the fork hooks once per process (the command's process only)."""
    if not _AT_FORK[0] and hasattr(os, "register_at_fork"):
        os.register_at_fork(before=_before_fork, after_in_child=_after_fork_in_child)
        _AT_FORK[0] = True


def _in_spawned_worker() -> bool:
    # a spawned worker has imported multiprocessing before it imports this module; the
    # command's own process need not import it (at start-up) to know it is not one
    multiprocessing = sys.modules.get("multiprocessing")
    return (multiprocessing is not None
            and multiprocessing.current_process().name != "MainProcess")


if _in_spawned_worker():  # a spawned worker importing the command's main module
    _parent = os.environ.get(PARENT_ENV, "")
    die_with_parent(int(_parent) if _parent.isdigit() else None)
    os.environ[PARENT_ENV] = str(os.getpid())


_MAIN_PID = os.getpid()
_SIGNALS = tuple(s for s in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None))
                 if s is not None)


#: The signal this run received, 0 if none (see :func:`_on_signal`).
_SIGNALLED = [0]


def _on_signal(signum: int, frame: Any) -> None:
    if os.getpid() != _MAIN_PID:
        # a forked worker inherited this handler: leave at once, quietly
        os._exit(128 + signum)
    # remembered: a library that runs the handler itself may turn the Terminated into
    # its own error (DuckDB: "Query interrupted"), which the boundary then reads as the
    # signal, not as a bug
    _SIGNALLED[0] = signum
    stop_children()
    raise Terminated(signum)


@contextlib.contextmanager
def _signal_handlers() -> Any:
    """Install the SIGTERM/SIGHUP handlers for one run (main thread only); restore after."""
    global _MAIN_PID
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _MAIN_PID = os.getpid()
    _SIGNALLED[0] = 0
    _workers_die_with_parent()
    previous = {s: signal.getsignal(s) for s in _SIGNALS}
    previous_env = os.environ.get(PARENT_ENV)
    os.environ[PARENT_ENV] = str(_MAIN_PID)
    for s in _SIGNALS:
        signal.signal(s, _on_signal)
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler if handler is not None else signal.SIG_DFL)
        if previous_env is None:
            os.environ.pop(PARENT_ENV, None)
        else:
            os.environ[PARENT_ENV] = previous_env


# -- the error boundary ----------------------------------------------------------------------

def _echo(text: str) -> None:
    with contextlib.suppress(OSError, ValueError):
        typer.echo(text, err=True)


def _os_error(exc: OSError) -> str:
    name = exc.filename
    reason = exc.strerror or str(exc)
    return f"error: {name}: {reason}" if name else f"error: {reason}"


def _dispatch(args: list[str], debug: bool) -> int:
    try:
        code = app(args=args, prog_name="satisfaction", standalone_mode=False)
    except InputError as exc:
        if debug:
            traceback.print_exc()
        _echo(f"error: {exc}")
        return EXIT_INPUT
    except typer.Exit as exc:
        return int(exc.exit_code or 0)
    except typer.Abort:  # Ctrl-C, turned into Abort by the command-line parser
        stop_children()
        remove_live_temps()
        _echo("interrupted")
        return 130
    except TyperException as exc:  # usage errors: unknown option, missing argument
        if debug:
            traceback.print_exc()
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            _echo(f"error: {exc}")
        return EXIT_INPUT
    except BrokenPipeError:
        # the reader of our output went away (`satisfaction ... | head`): stop quietly
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except OSError as exc:
        if debug:
            traceback.print_exc()
        _echo(_os_error(exc))
        return EXIT_INPUT
    except MemoryError:
        if debug:
            traceback.print_exc()
        _echo("error: not enough memory for this input on this machine")
        return EXIT_INPUT
    except Exception as exc:  # the boundary: any other exception is a bug
        if _SIGNALLED[0]:  # ... unless it is how a library reported our signal
            raise Terminated(_SIGNALLED[0]) from None
        if debug:
            traceback.print_exc()
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        detail = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
        _echo(f"error: internal error ({detail[:300]})\n  {INTERNAL_HINT}")
        return EXIT_INTERNAL
    return code if isinstance(code, int) else 0


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code (see the module docstring)."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    if debug:
        args = [a for a in args if a != "--debug"]
    with warnings.catch_warnings():
        if not debug:
            warnings.filterwarnings("ignore", category=FutureWarning)
            warnings.filterwarnings("ignore", category=DeprecationWarning)
        try:
            with _signal_handlers():
                return _dispatch(args, debug)
        except KeyboardInterrupt:
            stop_children()
            remove_live_temps()
            _echo("interrupted")
            return 130
        except Terminated as exc:
            remove_live_temps()
            _echo("terminated")
            return 128 + exc.signum


#: Settings of the process of ``satisfaction clv`` and ``satisfaction rfm``, made by
#: :func:`run` before NumPy is loaded; a value the user set wins. Their arrays hold
#: millions of customers or transactions and their BLAS work is dot products of vectors
#: (the fits run under one BLAS thread anyway):
#:
#: * ``NUMPY_MADVISE_HUGEPAGE=0``: NumPy asks the kernel for transparent huge pages for
#:   large arrays; where the kernel compacts memory synchronously for them (defrag
#:   "madvise", Debian's default) a fresh array's first touch costs more than the
#:   arithmetic on it;
#: * ``OPENBLAS_NUM_THREADS=1``: no OpenBLAS thread pools (NumPy's and SciPy's), their
#:   buffers and their spinning.
#:
#: Together about half a second of the 10-million-row ``clv`` (bench/bench_value.py).
VALUE_PROCESS_ENVIRONMENT: dict[str, str] = {"NUMPY_MADVISE_HUGEPAGE": "0",
                                             "OPENBLAS_NUM_THREADS": "1"}


def run() -> None:
    """Entry point for the console script.

    A run ended by a signal (exit code 128 + N, or 130 for Ctrl-C) has stopped its
    workers and removed its temporary files already; the process then ends at once
    (``os._exit``) instead of through the interpreter's shutdown, which joins the
    threads of the worker pools. On CPython before 3.12 a pool whose workers were
    stopped while its futures were being cancelled can leave its queue's feeder
    thread blocked on a pipe no one reads (``terminate_broken`` dies on an
    InvalidStateError before it closes the pipe, CPython gh-107219 and gh-94777), and
    that join then never returns (seen once, in a CI run of the SIGTERM test under load).
    """
    command = next((a for a in sys.argv[1:] if not a.startswith("-")), None)
    if command in ("clv", "rfm") and "numpy" not in sys.modules:
        for name, value in VALUE_PROCESS_ENVIRONMENT.items():
            os.environ.setdefault(name, value)
    code = main()
    if code >= 128:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    run()
