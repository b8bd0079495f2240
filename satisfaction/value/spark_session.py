"""Starting Spark for the value analysis: the session and its driver's JVM.

:func:`spark_session` creates (or reuses) the session the Spark engine
(:mod:`satisfaction.value.spark`) runs on: quiet, without the web UI, in UTC, and
with sort aggregates. On one machine (``local[N]``) the driver's JVM is the whole
of Spark and lives for one command: it gets options for a short batch run
(:data:`LOCAL_JAVA_OPTIONS`) and maps the class-data archive of the user's cache,
or records one when there is none (:mod:`satisfaction.value.jvm_archive`: a session
starts in half the time).

PySpark is an optional extra: ``pip install "satisfaction[spark]"`` (it needs a Java
runtime, e.g. Debian's ``default-jre-headless``); :func:`require_pyspark` says so
(:data:`INSTALL_HINT`) when it is missing.

See Also
--------
satisfaction.value.spark : the Spark engine, which re-exports the public names here.
satisfaction.value.jvm_archive : the class-data archive of the driver's JVM.
"""

from __future__ import annotations

import os
import re
import sys
import warnings
from pathlib import Path
from typing import Any

from satisfaction.errors import UsageError
from satisfaction.value.jvm_archive import (
    ClassArchive,
    class_archive,
    environment_java_options,
    save_at_exit,
)

INSTALL_HINT = ('the Spark engine needs PySpark and a Java runtime: pip install '
                '"satisfaction[spark]" (and e.g. apt-get install default-jre-headless)')

def require_pyspark() -> Any:
    """Import pyspark, or raise a UsageError that says how to install it."""
    try:
        import pyspark  # noqa: F401
        import sqlglot  # noqa: F401
        from pyspark.sql import SparkSession
    except ImportError:
        raise UsageError(INSTALL_HINT) from None
    return SparkSession


#: Options of the driver's JVM when Spark runs on this machine (``local[N]``), where the
#: JVM starts for one command. Its just-in-time compiler otherwise takes a third of
#: the CPU of a ten-million-row run on two cores (C2 compiling methods of start-up
#: such as the SQL parser and Java serialisation): compiling only methods four times
#: as hot as by default halved the compiler's CPU time, and the parallel collector
#: (throughput first, as suits a batch job) took less than the default G1; together
#: about 10 s less CPU of 65 (bench/bench_spark.py's run, per-thread CPU from /proc).
#: The row-by-row code runs millions of times and is compiled as before.
LOCAL_JAVA_OPTIONS = "-XX:CompileThresholdScaling=4 -XX:+UseParallelGC"


def _local_java_options() -> str:
    """:data:`LOCAL_JAVA_OPTIONS`, without the collector when the environment's Java
    options already choose one (the JVM refuses to start with two)."""
    if re.search(r"-XX:[+]Use\w*GC\b", environment_java_options()):
        return LOCAL_JAVA_OPTIONS.replace(" -XX:+UseParallelGC", "")
    return LOCAL_JAVA_OPTIONS


def spark_session(master: str = "local[*]", app_name: str = "satisfaction",
                  config: dict[str, str] | None = None) -> Any:
    """A Spark session (created, or the active one), quiet and without the web UI.

    ``master`` is ``local[N]`` for one machine or a cluster URL
    (``spark://host:7077``, ``yarn``, ``k8s://…``). On one machine the shuffles get
    2 partitions per core (Spark's default of 200 costs seconds per shuffle on a few
    cores), and the driver's JVM, which is then the whole of Spark and lives for one
    command, gets options for a short batch run (:data:`LOCAL_JAVA_OPTIONS`; they
    take effect when this call starts the JVM). ``config`` overrides any setting,
    ``spark.driver.extraJavaOptions`` included. A driver JVM that this call starts on
    this machine also maps the class-data archive of the user's cache, or records it
    when there is none (:mod:`satisfaction.value.jvm_archive`: a session starts in
    half the time; ``SATISFACTION_JVM_ARCHIVE=off`` turns it off).
    """
    session = require_pyspark()
    builder = session.builder.master(master).appName(app_name)
    settings = {"spark.ui.enabled": "false", "spark.ui.showConsoleProgress": "false",
                "spark.sql.session.timeZone": "UTC",
        # aggregate rows that arrive sorted by their keys without a hash table (the
        # customer table's, see satisfaction.value.spark_validation.spark_transactions)
        "spark.sql.execution.replaceHashWithSortAgg": "true"}
    if master.startswith("local"):
        cores = master[len("local["):-1] if master.startswith("local[") else "1"
        n = (os.cpu_count() or 1) if cores in ("*", "") else int(cores.split(",")[0])
        settings["spark.sql.shuffle.partitions"] = str(2 * n)
        settings["spark.driver.extraJavaOptions"] = _local_java_options()
        settings["spark.pyspark.python"] = sys.executable
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    settings.update(config or {})
    archive = _class_archive(master, settings)
    for key, value in settings.items():
        builder = builder.config(key, value)
    with warnings.catch_warnings():
        # Starting the context imports pyspark.testing.utils, which warns at import that
        # PySpark does not support pandas >= 3. The engine never hands pandas data to
        # PySpark (it collects through Arrow), so exactly that warning is dropped here.
        warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas",
                                category=FutureWarning)
        try:
            spark = builder.getOrCreate()
        except Exception:
            if archive is None:
                raise
            # the JVM did not start with the class archive's options: once more
            # without them; the archive is to blame only if Spark then starts
            options = settings["spark.driver.extraJavaOptions"]
            builder.config("spark.driver.extraJavaOptions",
                           options.replace(archive.options, "").strip())
            try:
                spark = builder.getOrCreate()
            except Exception:
                archive.release()
                raise
            archive.discard()
            archive = None
    if archive is not None and archive.recording:
        from pyspark import SparkContext

        process = getattr(SparkContext._gateway, "proc", None)
        if process is None:
            archive.discard()
        else:
            save_at_exit(archive, process)
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def _class_archive(master: str, settings: dict[str, str]) -> ClassArchive | None:
    """The class-data archive for a driver JVM this process is about to start on this
    machine (:mod:`satisfaction.value.jvm_archive`), its options added to
    ``settings``; None when the JVM runs already, Spark runs elsewhere, or the
    archive is off."""
    from pyspark import SparkContext

    if (not master.startswith("local") or SparkContext._gateway is not None
            or os.environ.get("PYSPARK_GATEWAY_PORT")):  # the JVM runs already
        return None
    from pyspark.find_spark_home import _find_spark_home

    options = settings.get("spark.driver.extraJavaOptions", "")
    archive = class_archive(Path(_find_spark_home()), options)
    if archive is not None:
        settings["spark.driver.extraJavaOptions"] = f"{options} {archive.options}".strip()
    return archive
