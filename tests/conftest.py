"""Shared fixtures: paths to the shipped questionnaires and the shared data.

Spark's JVM class-data archive (satisfaction/value/jvm_archive.py) is off in the test
suite: the tests would record one into the user's cache folder and wait for it to be
written at exit (pytest-xdist may end a worker before). tests/test_jvm_archive.py
turns it on for its own cache folders."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
QUESTIONNAIRES = ROOT / "satisfaction" / "questionnaires"
SHARED = ROOT.parent / "shared" / "data"
REFERENCE = Path(__file__).resolve().parent / "reference"
os.environ.setdefault("SATISFACTION_JVM_ARCHIVE", "off")


@pytest.fixture(scope="session")
def bank_csv() -> Path:
    """The ECSI bank data set of ../shared/data."""
    path = SHARED / "bank_satisfaction.csv"
    if not path.exists():
        pytest.fail(f"shared data set missing: {path}")
    return path


@pytest.fixture(scope="session")
def mobile_csv() -> Path:
    """The ECSI mobile-phone data set of ../shared/data."""
    path = SHARED / "ecsi_mobile.csv"
    if not path.exists():
        pytest.fail(f"shared data set missing: {path}")
    return path
