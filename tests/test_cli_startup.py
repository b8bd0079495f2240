"""What the command line imports before it does any work (issue 16, point 2).

``satisfaction --help`` must print in at most 0.5 s (``bench/bench_cli.py``): it
imports typer and rich (they print the help) and the command modules, and none
of the analysis libraries. Each check runs a fresh interpreter, since the test
process itself has imported everything already.
"""

from __future__ import annotations

import json
import subprocess
import sys

#: Libraries that printing the help or refusing an option never needs.
HEAVY = ("numpy", "pandas", "scipy", "yaml", "duckdb", "matplotlib", "statsmodels",
         "pingouin", "openpyxl", "jinja2", "weasyprint")

PROBE = """
import contextlib, io, json, sys
from satisfaction.cli import main
with contextlib.redirect_stdout(io.StringIO()) as out, \
        contextlib.redirect_stderr(io.StringIO()) as err:
    code = main({argv!r})
print(json.dumps({{"code": code, "out": out.getvalue(), "err": err.getvalue(),
                  "heavy": sorted(m for m in {heavy!r} if m in sys.modules),
                  "multiprocessing": "multiprocessing" in sys.modules}}))
"""


def _probe(argv: list[str]) -> dict:
    done = subprocess.run([sys.executable, "-c", PROBE.format(argv=argv, heavy=HEAVY)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_help_imports_no_analysis_library():
    found = _probe(["--help"])
    assert found["code"] == 0
    assert "validate" in found["out"] and "report" in found["out"]
    assert found["heavy"] == []
    # the worker-process machinery is imported when a command runs, not to print help
    assert found["multiprocessing"] is False


def test_usage_error_imports_no_analysis_library():
    found = _probe(["fit"])  # missing arguments: exit 2 before any data are read
    assert found["code"] == 2
    assert found["heavy"] == []


def test_missing_data_file_is_said_before_the_analysis_libraries(tmp_path):
    """A responses file that is not there (or is a folder) is an input error naming
    it, said before pandas and the statistics are imported (a second)."""
    missing = str(tmp_path / "nofile.csv")
    for argv in (["fit", "cram", missing], ["efa", "cram", missing],
                 ["compare", "cram", missing, "--by", "x"], ["report", "cram", missing],
                 ["reliability", "cram", missing], ["invariance", "cram", missing,
                                                    "--group", "x"],
                 ["validate", "cram", missing], ["fit", "cram", str(tmp_path)]):
        found = _probe(argv)
        assert found["code"] == 2, argv
        assert argv[2] in found["err"], argv
        assert ("file not found" if argv[2] == missing else "found a folder") in found["err"]
        # reading the questionnaire may take yaml and numpy (0.1 s); nothing heavier
        assert [m for m in found["heavy"] if m not in ("yaml", "numpy")] == [], \
            (argv, found["heavy"])


def test_command_help_imports_no_analysis_library():
    found = _probe(["report", "--help"])
    assert found["code"] == 0 and "--out" in found["out"]
    assert found["heavy"] == []


def test_value_commands_set_their_process_environment():
    """``satisfaction clv`` and ``rfm`` (the console script's run()) turn off NumPy's
    huge-page requests and OpenBLAS's threads before NumPy loads, unless the user set
    them; other commands leave the environment alone."""
    import os
    import subprocess
    import sys

    probe = ("import os, sys\n"
             "from satisfaction import cli\n"
             "cli.main = lambda: print(os.environ.get('NUMPY_MADVISE_HUGEPAGE'), "
             "os.environ.get('OPENBLAS_NUM_THREADS')) or 0\n"
             "sys.argv = ['satisfaction'] + sys.argv[1:]\n"
             "cli.run()\n")
    env = {k: v for k, v in os.environ.items()
           if k not in ("NUMPY_MADVISE_HUGEPAGE", "OPENBLAS_NUM_THREADS")}

    def seen(*args: str, **extra: str) -> str:
        out = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True,
                             text=True, env={**env, **extra}, check=True)
        return out.stdout.strip()

    assert seen("clv", "tx.csv") == "0 1"
    assert seen("--debug", "rfm", "tx.csv") == "0 1"
    assert seen("clv", "tx.csv", OPENBLAS_NUM_THREADS="2") == "0 2"
    assert seen("report", "q.yaml", "d.csv") == "None None"


def test_python_dash_m_runs_the_command_line():
    """``python -m satisfaction`` is the ``satisfaction`` script (exit codes too)."""
    done = subprocess.run([sys.executable, "-m", "satisfaction", "--help"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0 and "validate" in done.stdout
    done = subprocess.run([sys.executable, "-m", "satisfaction", "fit"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2 and "Missing argument" in done.stderr


def test_run_ended_by_a_signal_does_not_wait_for_threads():
    """After a signal (exit code 128 + N) the console script ends at once, with its
    output flushed, even when a thread would keep the interpreter's shutdown waiting
    (as a worker pool's feeder thread blocked on a pipe can, CPython gh-107219)."""
    probe = ("import sys, threading, time\n"
             "from satisfaction import cli\n"
             "def main():\n"
             "    threading.Thread(target=time.sleep, args=(600,)).start()\n"
             "    print('terminated', file=sys.stderr, end='')\n"
             "    return 143\n"
             "cli.main = main\n"
             "sys.argv = ['satisfaction', 'report']\n"
             "cli.run()\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 143 and done.stderr == "terminated"
