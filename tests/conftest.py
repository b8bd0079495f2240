"""Shared fixtures: paths to the shipped questionnaires and the shared data."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
QUESTIONNAIRES = ROOT / "satisfaction" / "questionnaires"
SHARED = ROOT.parent / "shared" / "data"
REFERENCE = Path(__file__).resolve().parent / "reference"


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
