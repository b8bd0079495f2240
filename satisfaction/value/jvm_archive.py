"""A class-data archive for the Spark driver's JVM: Spark starts in half the time.

A local Spark run starts a Java virtual machine for one command. Before it runs a
query, that JVM loads and verifies some 15,000 classes from Spark's 460 MB of jars
(Spark Core, Catalyst, Hadoop, Netty, Janino, …): most of the 7-8 s a session takes
to start on this project's two-core machine, and more time again the first time the
SQL planner and the code generator run. Java's *application class-data sharing*
(JEP 310; the dynamic archive of JEP 350, ``-XX:ArchiveClassesAtExit``, in the JDK
since 13) writes the classes a run loaded, already parsed and verified, to a file
that later JVMs map into memory (``-XX:SharedArchiveFile``). Measured here (JDK 17,
PySpark 4.3, ``local[2]``): a session starts in 3.3-3.7 s instead of 6.4-7.3 s, and
the first query is ready after 4.9-5.4 s instead of 10.0-10.8 s.

How this module uses it:

* **Where.** One archive per Java runtime and Spark installation (their paths, sizes
  and modification times are hashed into the name), in the user's cache
  folder (``platformdirs.user_cache_dir("satisfaction")``, or
  ``$SATISFACTION_CACHE_DIR``). The two most recently used archives are kept; an
  archive is 150-180 MB.
* **Recording.** When there is none, the run records one: its JVM writes the archive
  to a temporary file as it exits, which takes 10-15 s once. At the end of the
  Python process (:func:`atexit`) the JVM is asked to exit and waited for, and the
  file is renamed into place only if the JVM ended normally: a half-written archive
  can crash a JVM that maps it (SIGBUS, tried), so none is ever used. The name records
  the size, checked before use. As a rule one process records at a time (a lock file
  holding its process id; a rare race may let two record, each to a file of its
  own); others run without an archive meanwhile. A recording that fails (the JVM
  refuses to write the archive, or would not start with the option) is not tried
  again for :data:`RETRY_AFTER`. None is recorded when a configuration folder on
  Spark's class path holds files (``SPARK_CONF_DIR``, ``HADOOP_CONF_DIR``,
  ``YARN_CONF_DIR``): JDK 17 writes no archive then ("Cannot have non-empty directory
  in paths"); an archive recorded without them is still used.
* **Using.** ``-Xshare:auto`` (the JVM's default) lets the JVM start without the archive
  if it does not match the runtime or the class path (the JVM checks both), with
  ``-XX:+VerifySharedSpaces`` (check sums of the mapped regions, 0.1 s) and the
  archive's messages off. If the JVM still fails to start with it, the archive is
  deleted if Spark then starts without it
  (:func:`satisfaction.value.spark_session.spark_session`). That happens to an archive cut
  short after it was saved (by hand, or a damaged disk): the JVM crashes as it maps
  it, and prints its crash report (written to ``hs_err_pid*.log`` in the cache
  folder, not the current one), before the session starts again without it
  (tested). A read-only
  cache folder is used as it is.
* **Off.** ``SATISFACTION_JVM_ARCHIVE=off`` turns it off, as do Java options of the
  caller's own about class-data sharing, and ``--driver-java-options`` in
  ``PYSPARK_SUBMIT_ARGS`` (they would replace the archive's options). The test suite
  runs with it off (tests/conftest.py) but for its own tests.

Why our own code: neither PySpark nor Spark manage class-data archives, and the JDK
17 that Debian ships lacks ``-XX:+AutoCreateSharedArchive`` (JDK 19), which would
record and refresh one by itself.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Environment variable: ``off`` (or ``0``, ``no``, ``false``) turns the archive off.
ARCHIVE_ENV = "SATISFACTION_JVM_ARCHIVE"
#: Environment variable: the folder for the archives (default: the user's cache folder).
CACHE_ENV = "SATISFACTION_CACHE_DIR"
#: Archives kept (the most recently used); each is 150-180 MB.
KEEP = 2
#: A lock older than this (seconds) is left over from a run that ended without
#: removing it, whichever process holds its number now.
STALE_AFTER = 3600.0
#: After a recording failed, none is tried for this long (seconds): a week.
RETRY_AFTER = 7 * 86400.0
#: How long the end of the process waits for the JVM to exit and write the archive
#: (seconds); after that the process ends, and the unfinished file is deleted.
SAVE_TIMEOUT = 180.0
#: JVM options that make the JVM say nothing about the archive (it would print a
#: warning per class it cannot archive, and one when an archive does not match).
QUIET = "-Xlog:cds*=off"


def cache_dir() -> Path:
    """The folder for the archives: ``$SATISFACTION_CACHE_DIR``, else the user's
    cache folder (``~/.cache/satisfaction`` on Linux)."""
    chosen = os.environ.get(CACHE_ENV)
    if chosen:
        return Path(chosen)
    try:
        import platformdirs
    except ImportError:  # the spark extra installs it; the XDG default otherwise
        return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "satisfaction"
    return Path(platformdirs.user_cache_dir("satisfaction"))


def enabled(java_options: str = "") -> bool:
    """False when ``$SATISFACTION_JVM_ARCHIVE`` says ``off``, the Java options
    (``java_options`` and the JVM's environment variables) set class-data sharing
    themselves, or ``PYSPARK_SUBMIT_ARGS`` gives ``--driver-java-options`` (which
    replace the options this module adds)."""
    if os.environ.get(ARCHIVE_ENV, "").strip().lower() in ("off", "0", "no", "false"):
        return False
    if "--driver-java-options" in os.environ.get("PYSPARK_SUBMIT_ARGS", ""):
        return False
    given = f"{java_options} {environment_java_options()}"
    return re.search(r"-Xshare|SharedArchiveFile|ArchiveClassesAtExit|SharedClassListFile",
                     given) is None


def environment_java_options() -> str:
    """The Java options every JVM reads from the environment (``JAVA_TOOL_OPTIONS``,
    ``_JAVA_OPTIONS``, ``JDK_JAVA_OPTIONS``), joined."""
    return " ".join(os.environ.get(v, "") for v in
                    ("JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "JDK_JAVA_OPTIONS"))


def _java() -> Path | None:
    """The ``java`` that ``spark-submit`` runs: ``$JAVA_HOME/bin/java``, else the one
    on the PATH."""
    home = os.environ.get("JAVA_HOME")
    found = (str(Path(home) / "bin" / "java") if home else None) or shutil.which("java")
    if found is None or not Path(found).exists():
        return None
    return Path(found).resolve()


def _stamp(path: Path) -> str:
    st = path.stat()
    return f"{path}:{st.st_size}:{st.st_mtime_ns}"


def archive_key(spark_home: Path) -> str | None:
    """A name for the archive of this Java runtime and Spark installation: a hash of
    the paths, sizes and times of the ``java`` binary, its ``libjvm.so`` and every jar
    in ``spark_home/jars``. None without a ``java`` or jars (Spark then fails to start
    anyway, with its own message).

    The JVM's options are not in it: the JVM itself checks that an archive suits
    them (a heap above 32 GB, for one, does not), and starts without it if not."""
    java = _java()
    jars = spark_home / "jars"
    if java is None or not jars.is_dir():
        return None
    # the JVM itself: the launcher, and the library that a JDK update replaces
    runtime = [java, *sorted(java.parent.parent.glob("lib/*/libjvm.so"))]
    digest = hashlib.sha256()
    stamps = [*(_stamp(p) for p in runtime),
              *sorted(_stamp(j) for j in jars.iterdir() if j.suffix == ".jar")]
    for part in stamps:
        digest.update(part.encode("utf-8", "surrogateescape") + b"\n")
    return digest.hexdigest()[:16]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _conf_dirs_with_files(spark_home: Path) -> list[Path]:
    """Configuration folders that Spark puts on the driver's class path and that hold
    files: JDK 17 records no archive then."""
    found = []
    for folder in (os.environ.get("SPARK_CONF_DIR") or str(spark_home / "conf"),
                   os.environ.get("HADOOP_CONF_DIR"), os.environ.get("YARN_CONF_DIR")):
        if folder and Path(folder).is_dir():
            with contextlib.suppress(OSError):
                if any(Path(folder).iterdir()):
                    found.append(Path(folder))
    return found


@dataclass
class ClassArchive:
    """The class-data archive options of one Spark start.

    Attributes
    ----------
    options : str
        JVM options to add to the driver's (``spark.driver.extraJavaOptions``).
    path : Path
        The archive used, or (when recording) the temporary file the JVM writes.
    folder : Path
        The cache folder.
    key : str
        The archive's key (:func:`archive_key`).
    recording : bool
        True when this run records the archive (:meth:`save` renames it into place).
    """

    options: str
    path: Path
    folder: Path
    key: str
    recording: bool

    @property
    def lock(self) -> Path:
        """The lock file of the process recording the archive."""
        return self.folder / f"spark-{self.key}.recording"

    @property
    def failed(self) -> Path:
        """The file that says a recording failed (see :data:`RETRY_AFTER`)."""
        return self.folder / f"spark-{self.key}.failed"

    def save(self, process: Any) -> Path | None:
        """Ask the JVM ``process`` (a :class:`subprocess.Popen`) to exit, wait for it
        to write the archive, and put the archive in place; returns its path, or None
        if the JVM did not end normally or wrote nothing (the temporary file is then
        deleted, and a failed recording noted).

        The driver's JVM exits when its standard input closes (PySpark's gateway),
        and writes the archive as it exits. Interrupted (Ctrl-C) while it waits, it
        gives up quietly."""
        if not self.recording:
            return None
        saved = None
        try:
            if process.poll() is None:
                print("satisfaction: saving the Java class archive that makes Spark start "
                      f"faster (once, 10-15 s): {self.folder}", file=sys.stderr, flush=True)
            if process.stdin is not None:
                with contextlib.suppress(OSError):
                    process.stdin.close()
            code = process.wait(timeout=SAVE_TIMEOUT)
            if code == 0 and self.path.is_file() and self.path.stat().st_size > 0:
                size = self.path.stat().st_size
                saved = self.folder / f"spark-{self.key}-{size}.jsa"
                os.replace(self.path, saved)
                prune(self.folder, keep=saved)
            elif code == 0:  # the JVM ended normally and wrote nothing: it cannot
                self._note_failure()
        except (OSError, subprocess.TimeoutExpired, KeyboardInterrupt):
            saved = None
        finally:
            with contextlib.suppress(OSError):
                self.path.unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                self.lock.unlink(missing_ok=True)
        return saved

    def discard(self) -> None:
        """The JVM did not start with these options: delete the archive, or give up
        recording (and note that recording failed)."""
        with contextlib.suppress(OSError):
            self.path.unlink(missing_ok=True)
        if self.recording:
            self._note_failure()
            with contextlib.suppress(OSError):
                self.lock.unlink(missing_ok=True)

    def release(self) -> None:
        """Give up recording without blaming the archive (Spark failed to start for
        another reason)."""
        if self.recording:
            with contextlib.suppress(OSError):
                self.lock.unlink(missing_ok=True)

    def _note_failure(self) -> None:
        with contextlib.suppress(OSError):
            self.failed.write_text(str(os.getpid()))


def _owner(path: Path) -> int | None:
    """The process id in a temporary file's name (``spark-KEY.PID.tmp``)."""
    part = path.name.rsplit(".", 2)
    return int(part[1]) if len(part) == 3 and part[1].isdigit() else None


def prune(folder: Path, keep: Path | None = None) -> None:
    """Delete all but the :data:`KEEP` most recently used archives in ``folder``
    (``keep`` among them), temporary files whose recording process has ended, and
    lock files older than :data:`STALE_AFTER`."""
    now = time.time()
    with contextlib.suppress(OSError):
        archives = sorted(folder.glob("spark-*-*.jsa"), key=lambda p: p.stat().st_mtime,
                          reverse=True)
        if keep is not None and keep in archives:
            archives.remove(keep)
            archives.insert(0, keep)
        for old in archives[KEEP:]:
            old.unlink(missing_ok=True)
        for left in folder.glob("spark-*.tmp"):
            owner = _owner(left)
            if owner is None or not _alive(owner) or now - left.stat().st_mtime > STALE_AFTER:
                left.unlink(missing_ok=True)
        for lock in folder.glob("spark-*.recording"):
            if now - lock.stat().st_mtime > STALE_AFTER:
                lock.unlink(missing_ok=True)


def _take_lock(lock: Path) -> bool:
    """Create ``lock`` holding this process's id; False if a living process holds it."""
    for _ in range(2):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                owner = int(lock.read_text().strip() or "0")
                age = time.time() - lock.stat().st_mtime
            except (OSError, ValueError):
                owner, age = 0, STALE_AFTER + 1
            if owner and _alive(owner) and age < STALE_AFTER:
                return False
            with contextlib.suppress(OSError):
                lock.unlink()
            continue
        with os.fdopen(fd, "w") as f:
            f.write(str(os.getpid()))
        return True
    return False


def class_archive(spark_home: Path, java_options: str = "") -> ClassArchive | None:
    """The archive options for a JVM about to start with ``java_options``: use the
    archive of this runtime and Spark installation, or record it; None when it is
    turned off (:func:`enabled`), cannot be keyed, cannot be recorded here (a
    configuration folder with files on the class path, a recording that failed
    within :data:`RETRY_AFTER`, another process recording it, a cache folder that
    cannot be written).

    A path with blanks or quotes is not used (Spark splits Java options at blanks)."""
    if not enabled(java_options):
        return None
    key = archive_key(spark_home)
    if key is None:
        return None
    folder = cache_dir()
    if re.search(r"[\s'\"]", str(folder)):
        return None
    with contextlib.suppress(OSError):
        for found in folder.glob(f"spark-{key}-*.jsa"):
            size = found.stem.rsplit("-", 1)[1]
            if size.isdigit() and int(size) == found.stat().st_size:
                with contextlib.suppress(OSError):
                    os.utime(found)  # most recently used (a read-only cache: as it is)
                prune(folder, keep=found)
                return ClassArchive(
                    options=(f"-XX:SharedArchiveFile={found} -XX:+VerifySharedSpaces "
                             f"{QUIET} {_error_file(folder)}"),
                    path=found, folder=folder, key=key, recording=False)
            found.unlink()  # not the size it was written with: never mapped
    record = ClassArchive(options="", path=folder / f"spark-{key}.{os.getpid()}.tmp",
                          folder=folder, key=key, recording=True)
    if _conf_dirs_with_files(spark_home):
        return None
    try:
        if time.time() - record.failed.stat().st_mtime < RETRY_AFTER:
            return None
    except OSError:
        pass  # no failure noted
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if not _take_lock(record.lock):
            return None
        prune(folder)
    except OSError:
        return None
    record.options = f"-XX:ArchiveClassesAtExit={record.path} {QUIET} {_error_file(folder)}"
    return record


def _error_file(folder: Path) -> str:
    """Where the JVM writes a crash report (as one that maps a damaged archive does):
    the cache folder, not the user's current folder."""
    return f"-XX:ErrorFile={folder / 'hs_err_pid%p.log'}"


def save_at_exit(archive: ClassArchive, process: Any) -> None:
    """Register :meth:`ClassArchive.save` of ``process`` to run when Python exits."""
    atexit.register(archive.save, process)
