"""Writing output files safely.

A run that fails must leave no half-written file behind: everything is written
to a temporary file in the target folder and renamed into place at the end
(:func:`atomic_path`). The temporary file is removed on any exit the process
sees (an exception, Ctrl-C, ``SIGTERM`` through the command line's handler); a
``SIGKILL`` cannot be seen, so temporary names carry the writer's process id and
the next write into the same folder removes those of processes no longer alive.
An existing output keeps its permissions when it is replaced.

:func:`check_output` refuses, before any analysis starts, an output that
cannot be written (a folder, a path under a regular file, a folder without
write access such as ``/proc``) or that is one of the inputs.

Spreadsheet safety (OWASP "CSV injection"): a text cell that begins with
``= + - @``, a tab or a carriage return is read by Excel and LibreOffice as a
formula. :func:`spreadsheet_text` prefixes such text with a single quote for
CSV files; the Excel writer stores it as text with Excel's quote prefix.
Numbers are never changed (``-3.5`` is a number; the text ``"-3.5"`` is left as
it is too, since no spreadsheet reads a plain number as a formula).
"""

from __future__ import annotations

import atexit
import json
import math
import os
import re
import stat
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any


def check_data_file(source: Any, folder: bool = False) -> None:
    """Refuse a data file that is not there, or is a folder, with an InputError naming
    it (exit 2), before pandas and the statistics are imported (about a second); the
    readers (:func:`satisfaction.responses.read_table`) say the same after. Anything
    else (a DataFrame, lavaan syntax as text, a Responses object) passes.
    ``folder=True`` admits a folder (transactions may be a folder of Parquet files)."""
    from satisfaction.errors import InputError

    if isinstance(source, str | Path) and not (isinstance(source, str) and "\n" in source):
        path = Path(source)
        if not path.exists():
            raise InputError("file not found", file=str(source))
        if path.is_dir() and not folder:
            raise InputError("expected a file, found a folder", file=str(source))


def to_jsonable(value: Any) -> Any:
    """Convert numpy/pandas scalars and containers to plain JSON values.

    NaN and infinities become ``None`` so the JSON is valid and never shows
    "nan" to a reader.
    """
    # numpy is imported here, not at the top: the command line imports this module
    # to check its outputs, and ``satisfaction --help`` needs no numpy
    import numpy as np

    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [to_jsonable(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is not None and not isinstance(value, str | int | float | bool):
        try:
            import pandas as pd

            if pd.isna(value):
                return None
        except (TypeError, ValueError):
            pass
        return str(value)
    return value


def records(frame: Any) -> list[dict[str, Any]]:
    """Rows of a DataFrame as JSON-ready dicts (:func:`to_jsonable` on every cell).

    The one converter of tables to JSON: numbers become plain ``int``/``float``,
    NaN and infinities ``None``, other objects (dates) their text.
    """
    return [{str(k): to_jsonable(v) for k, v in row.items()}
            for row in frame.to_dict(orient="records")]


def _umask() -> int:
    """The process's umask, read without changing it where the system tells it
    (Linux: /proc/self/status); elsewhere set and restored at once."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


#: Temporary files this process is writing now (removed at exit if still there).
_LIVE: set[Path] = set()
_TMP_SUFFIX = ".tmp"


def _temp_prefix(target: Path) -> str:
    return f".{target.name}.{os.getpid()}."


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


def remove_stale_temps(target: str | Path) -> list[Path]:
    """Remove temporary files left beside ``target`` by writers that were killed.

    A temporary file is named ``.<name>.<pid>.<random>.tmp``; one whose process is
    no longer alive was left by a ``SIGKILL`` (or a power cut) and is removed.
    Returns the paths removed.
    """
    target = Path(target)
    removed: list[Path] = []
    try:
        entries = list(target.parent.iterdir())
    except OSError:
        return removed
    head = f".{target.name}."
    for entry in entries:
        name = entry.name
        if not (name.startswith(head) and name.endswith(_TMP_SUFFIX)):
            continue
        pid_text = name[len(head):].split(".", 1)[0]
        if not pid_text.isdigit() or int(pid_text) == os.getpid() or _alive(int(pid_text)):
            continue
        try:
            entry.unlink()
            removed.append(entry)
        except OSError:
            pass
    return removed


def remove_live_temps() -> None:
    """Remove the temporary files this process is still writing (at exit, on a signal)."""
    for path in list(_LIVE):
        with suppress(OSError):
            path.unlink()
        _LIVE.discard(path)


atexit.register(remove_live_temps)


def _target(path: str | Path) -> Path:
    """The file to replace: a symbolic link is followed, so the link stays a link."""
    return Path(os.path.realpath(path))


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` on success.

    The new file gets the permissions of the file it replaces, or those of a
    plain ``open()`` (0666 less the umask) when there was none. The temporary
    file is removed whatever happens; stale ones of killed writers are removed
    first (:func:`remove_stale_temps`).
    """
    target = _target(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(target)
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except OSError:
        mode = 0o666 & ~_umask()
    fd, tmp = tempfile.mkstemp(prefix=_temp_prefix(target), suffix=_TMP_SUFFIX,
                               dir=target.parent)
    tmp_path = Path(tmp)
    _LIVE.add(tmp_path)
    os.close(fd)
    try:
        yield tmp_path
        # mkstemp makes the file readable by its owner only
        os.chmod(tmp_path, mode)
        os.replace(tmp_path, target)
    finally:
        _LIVE.discard(tmp_path)
        if tmp_path.exists():
            tmp_path.unlink()


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def _existing_ancestor(path: Path) -> Path:
    here = path.parent
    while not here.exists() and here != here.parent:
        here = here.parent
    return here


def check_output(path: str | Path, *, option: str | None = None,
                 inputs: Iterable[str | Path | None] = (), folder: bool = False) -> None:
    """Refuse at once an output that cannot be written, before any work is done.

    Parameters
    ----------
    path : path
        The file (or, with ``folder=True``, the folder) to be written.
    option : str, optional
        The command-line option that named it, for the message (``"--out"``).
    inputs : paths
        Input files: writing onto one of them is refused.
    folder : bool
        ``path`` is a folder that will receive files.

    Raises
    ------
    UsageError
        The path is a folder (or, for ``folder=True``, a file), lies under a
        regular file, is not a regular file (``/dev/null``), is read-only, is one
        of the inputs, or its folder cannot be written (probed by creating and
        removing a file there, so ``/proc``, a read-only mount and a folder
        without permission are all found).
    """
    from satisfaction.errors import UsageError

    shown = str(path)
    target = Path(path)

    def refuse(message: str) -> None:
        raise UsageError(f"cannot write {shown!r}: {message}", column=option)

    for source in inputs:
        if source is not None and _same_file(target, Path(source)):
            refuse(f"it is the input file {str(source)!r}; writing there would destroy "
                   "the input (give another name)")
    if folder:
        if target.exists() and not target.is_dir():
            refuse("it is a file, not a folder")
        probe_in = target if target.is_dir() else _existing_ancestor(target / "x")
    else:
        if target.is_dir():
            refuse("it is a folder; give a file name")
        if target.exists() and not target.is_file():
            refuse("it is not a regular file")
        if target.exists() and not os.access(target, os.W_OK):
            refuse("the file is read-only")
        probe_in = _existing_ancestor(_target(target))
    if not probe_in.is_dir():
        refuse(f"{str(probe_in)!r} is a file, not a folder")
    try:
        fd, probe = tempfile.mkstemp(prefix=".satisfaction-probe.", suffix=_TMP_SUFFIX,
                                     dir=probe_in)
    except OSError as exc:
        refuse(f"no file can be created in the folder {str(probe_in)!r} "
               f"({exc.strerror or exc})")
    else:
        os.close(fd)
        os.unlink(probe)


def check_outputs(outputs: dict[str, str | Path | None],
                  inputs: Iterable[str | Path | None] = ()) -> None:
    """:func:`check_output` for each named output (option → path); also refuses
    two options naming the same file."""
    from satisfaction.errors import UsageError

    inputs = [i for i in inputs if i is not None]
    given = [(option, Path(p)) for option, p in outputs.items() if p is not None]
    for k, (option, path) in enumerate(given):
        for other, earlier in given[:k]:
            if _same_file(path, earlier):
                raise UsageError(f"{str(path)!r} is also given to {other}; each output "
                                 "needs its own file", column=option)
        check_output(path, option=option, inputs=inputs)


_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def formula_like(value: object) -> bool:
    """True for text a spreadsheet would read as a formula: it begins with
    ``= + - @``, a tab or a carriage return and is not a plain number."""
    return (isinstance(value, str) and value.startswith(_FORMULA_START)
            and _NUMBER.fullmatch(value) is None)


def spreadsheet_text(value: Any) -> Any:
    """``value`` with a single quote in front when it is formula-like text
    (the OWASP rule for CSV files); anything else unchanged."""
    return "'" + value if formula_like(value) else value


def spreadsheet_safe(frame: Any) -> Any:
    """A copy of a DataFrame whose text cells (and column names) are
    :func:`spreadsheet_text`; numeric columns are not touched."""
    import pandas as pd

    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if series.dtype == object or isinstance(series.dtype, pd.StringDtype | pd.CategoricalDtype):
            # only cells that begin with a formula character can change: find them with
            # Arrow's vectorised test (a million ids take 0.1 s, not a second), then
            # apply the rule to those; non-text cells are never changed by it. A column
            # without such cells is left as it is (converting a million text cells to
            # objects and back to Arrow costs a second of the per-customer CSV)
            text = series if isinstance(series.dtype, pd.StringDtype) else series.astype(object)
            start = text.astype("string[pyarrow]").str.startswith(_FORMULA_START, na=False)
            risky = start.to_numpy(dtype=bool, na_value=False)
            if risky.any():
                values = series.astype(object)
                values[risky] = values[risky].map(spreadsheet_text)
                out[column] = values
    out.columns = [spreadsheet_text(c) for c in out.columns]
    return out


def write_text(path: str | Path, text: str) -> None:
    """Write text (UTF-8) atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json(path: str | Path, data: Any) -> None:
    """Write JSON atomically: sorted nothing, indented, NaN as null, UTF-8."""
    text = json.dumps(to_jsonable(data), indent=2, ensure_ascii=False, allow_nan=False)
    write_text(path, text + "\n")


def write_with(path: str | Path, writer: Callable[[Path], None]) -> None:
    """Call ``writer(tmp_path)`` and move the result onto ``path`` atomically."""
    with atomic_path(path) as tmp:
        writer(tmp)
