"""The class-data archive of the Spark driver's JVM (satisfaction.value.jvm_archive).

Recording and using an archive are tested with the real ``java`` (a JVM that prints
its version: a fraction of a second); that a mapped archive serves the classes is
read from the JVM's own class-loading log."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from satisfaction.value import jvm_archive as ja


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A Spark installation of one (empty) jar, and a cache folder of the test's own."""
    spark_home = tmp_path / "spark"
    (spark_home / "jars").mkdir(parents=True)
    (spark_home / "jars" / "a.jar").write_bytes(b"jar")
    monkeypatch.setenv(ja.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setenv(ja.ARCHIVE_ENV, "on")  # off in the rest of the suite (conftest)
    for name in ("JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "JDK_JAVA_OPTIONS",
                 "PYSPARK_SUBMIT_ARGS", "HADOOP_CONF_DIR", "YARN_CONF_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SPARK_CONF_DIR", str(spark_home / "conf"))  # none there
    return spark_home


def java(options: str, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(["java", *options.split(), *extra, "-version"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def test_records_once_then_maps_it(home: Path) -> None:
    record = ja.class_archive(home)
    assert record is not None and record.recording
    assert f"-XX:ArchiveClassesAtExit={record.path}" in record.options
    assert record.lock.read_text() == str(os.getpid())
    # a second process meanwhile runs without one (this process holds the lock)
    assert ja.class_archive(home) is None
    saved = record.save(java(record.options))
    assert saved is not None and saved.is_file()
    assert saved.name == f"spark-{record.key}-{saved.stat().st_size}.jsa"
    assert not record.path.exists() and not record.lock.exists()

    used = ja.class_archive(home)
    assert used is not None and not used.recording and used.path == saved
    assert f"-XX:SharedArchiveFile={saved}" in used.options
    assert "-XX:+VerifySharedSpaces" in used.options
    out, _ = java(used.options).communicate()
    assert "warning" not in out and "cds" not in out  # quiet
    # the classes come from the archive: the JVM's own log says so
    out, _ = java(used.options.replace(ja.QUIET, ""), "-Xlog:class+load=info").communicate()
    assert "source: shared objects file (top)" in out


def test_a_file_of_another_size_is_never_mapped(home: Path) -> None:
    record = ja.class_archive(home)
    assert record is not None
    saved = record.save(java(record.options))
    assert saved is not None
    with open(saved, "r+b") as f:  # cut short, as by a full disk
        f.truncate(saved.stat().st_size // 2)
    again = ja.class_archive(home)
    assert again is not None and again.recording  # recorded anew
    assert not saved.exists()
    again.discard()


def test_a_jvm_that_fails_saves_nothing(home: Path) -> None:
    record = ja.class_archive(home)
    assert record is not None
    failed = subprocess.Popen([sys.executable, "-c", "import sys; sys.exit(3)"],
                              stdin=subprocess.PIPE)
    record.path.write_bytes(b"half")  # what a JVM cut short might leave
    assert record.save(failed) is None
    assert not record.path.exists() and not record.lock.exists()
    assert not list(record.folder.glob("*.jsa"))


def test_a_recording_that_wrote_nothing_is_not_tried_again(home: Path) -> None:
    """A JVM that ends normally without writing the archive (JDK 17 refuses when a
    folder with files is on the class path): noted, and no recording for a week."""
    record = ja.class_archive(home)
    assert record is not None and record.recording
    nothing = subprocess.Popen([sys.executable, "-c", "pass"], stdin=subprocess.PIPE)
    assert record.save(nothing) is None
    assert record.failed.exists() and not record.lock.exists()
    assert ja.class_archive(home) is None
    old = ja.time.time() - ja.RETRY_AFTER - 1
    os.utime(record.failed, (old, old))
    again = ja.class_archive(home)
    assert again is not None and again.recording
    again.release()


def test_no_recording_with_a_configuration_folder_on_the_class_path(
        home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    conf = home / "conf"
    conf.mkdir()
    (conf / "spark-defaults.conf").write_text("spark.ui.enabled false\n")
    assert ja.class_archive(home) is None
    monkeypatch.setenv("SPARK_CONF_DIR", str(home / "elsewhere"))
    monkeypatch.setenv("HADOOP_CONF_DIR", str(conf))
    assert ja.class_archive(home) is None
    monkeypatch.delenv("HADOOP_CONF_DIR")
    record = ja.class_archive(home)
    assert record is not None and record.recording
    record.release()


def test_lock_of_an_ended_process_is_taken_over(home: Path) -> None:
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    key = ja.archive_key(home)
    folder = ja.cache_dir()
    folder.mkdir(parents=True)
    (folder / f"spark-{key}.recording").write_text(str(ended.pid))
    record = ja.class_archive(home)
    assert record is not None and record.recording
    assert record.lock.read_text() == str(os.getpid())
    record.discard()
    assert not record.lock.exists()


def test_off_by_environment_or_own_options(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert ja.class_archive(home, "-Xshare:off") is None
    assert ja.class_archive(home, "-XX:SharedArchiveFile=/x.jsa") is None
    monkeypatch.setenv("JAVA_TOOL_OPTIONS", "-XX:ArchiveClassesAtExit=/x.jsa")
    assert ja.class_archive(home) is None
    monkeypatch.delenv("JAVA_TOOL_OPTIONS")
    monkeypatch.setenv("PYSPARK_SUBMIT_ARGS", "--driver-java-options -Dx=1 pyspark-shell")
    assert ja.class_archive(home) is None
    monkeypatch.delenv("PYSPARK_SUBMIT_ARGS")
    monkeypatch.setenv(ja.ARCHIVE_ENV, "off")
    assert ja.class_archive(home) is None


def test_no_archive_in_a_folder_with_blanks(home: Path, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ja.CACHE_ENV, str(tmp_path / "my cache"))
    assert ja.class_archive(home) is None  # Spark splits Java options at blanks


def test_key_follows_the_runtime_and_the_jars(home: Path) -> None:
    key = ja.archive_key(home)
    assert key is not None and key == ja.archive_key(home)
    (home / "jars" / "b.jar").write_bytes(b"other")
    assert ja.archive_key(home) != key
    assert ja.archive_key(home / "missing") is None


def test_prune_keeps_the_most_recently_used(tmp_path: Path) -> None:
    names = [tmp_path / f"spark-{k}-3.jsa" for k in "abcd"]
    for age, path in enumerate(names):
        path.write_bytes(b"123")
        os.utime(path, (1e9 + age, 1e9 + age))
    stale = tmp_path / "spark-e.99999999.tmp"
    stale.write_bytes(b"")
    os.utime(stale, (1e9, 1e9))
    ja.prune(tmp_path, keep=names[0])
    assert sorted(p.name for p in tmp_path.iterdir()) == [names[0].name, names[3].name]


def test_spark_records_maps_and_survives_a_broken_archive(tmp_path: Path) -> None:
    """The whole life of an archive with Spark, each start a fresh Python (so that
    this process's Spark session does not stand in):

    1. no archive: the session records one, saved as the process ends;
    2. the next session maps it; one that fails to start for another reason (a
       driver memory that is no size) leaves it in place;
    3. an archive cut short after it was saved (by hand: this module saves only
       whole ones, and checks the size in the name) crashes the JVM that maps it;
       the session starts again without it, and the archive is deleted.
    """
    cache = tmp_path / "cache"
    script = tmp_path / "start.py"
    script.write_text(
        "import sys\n"
        "from satisfaction.value import spark as sv\n"
        "config = {'spark.driver.memory': sys.argv[1]} if len(sys.argv) > 1 else None\n"
        "s = sv.spark_session('local[1]', config=config)\n"
        "print('rows', s.range(3).count())\n"
        "print('options', s.sparkContext.getConf().get('spark.driver.extraJavaOptions'))\n")
    env = {**os.environ, ja.CACHE_ENV: str(cache), ja.ARCHIVE_ENV: "on"}

    def start() -> tuple[str, str]:
        done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                              timeout=300, check=False, cwd=tmp_path, env=env)
        assert done.returncode == 0, done.stderr[-2000:]
        assert "rows 3" in done.stdout
        return done.stdout, done.stderr

    out, err = start()
    assert "-XX:ArchiveClassesAtExit=" in out and "saving the Java class archive" in err
    (archive,) = cache.glob("spark-*.jsa")
    assert not list(cache.glob("*.tmp")) and not list(cache.glob("*.recording"))

    out, _ = start()
    assert f"-XX:SharedArchiveFile={archive}" in out
    failed = subprocess.run([sys.executable, str(script), "nonsense"], capture_output=True,
                            text=True, timeout=300, check=False, cwd=tmp_path, env=env)
    assert failed.returncode != 0 and "rows" not in failed.stdout
    assert archive.exists()  # not to blame

    cut = archive.read_bytes()[:100_000]  # a valid header, regions past the end
    archive.unlink()
    broken = archive.with_name(f"{archive.name.rsplit('-', 1)[0]}-{len(cut)}.jsa")
    broken.write_bytes(cut)
    out, _ = start()
    assert "fatal error" in out  # the JVM's own crash report: it did map it
    assert list(cache.glob("hs_err_pid*.log")) and not list(tmp_path.glob("hs_err*"))
    assert "SharedArchiveFile" not in out.split("\noptions", 1)[1]
    assert not broken.exists()
