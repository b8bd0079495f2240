"""Where the package's own data live: templates, message catalogs, rules, questionnaires.

They are package data (``pyproject.toml`` ``[tool.setuptools.package-data]``),
found through :mod:`importlib.resources` so that an installed wheel renders
reports from any working directory, not only a checkout of the repository.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def _package_folder(name: str) -> Path:
    # files() gives a Traversable; setuptools installs the package as a plain folder
    # (never zipped: zip_safe is false for package data read by Jinja and WeasyPrint),
    # so it is a real directory that FileSystemLoader and file:// URLs can use.
    return Path(str(files("satisfaction") / name))


TEMPLATES: Path = _package_folder("templates")
"""The report template, its style sheet and the message catalogs (``messages/``)."""

RULES: Path = _package_folder("rules")
"""The shipped strategy rule files (``*.yaml``)."""

QUESTIONNAIRES: Path = _package_folder("questionnaires")
"""The shipped questionnaires: ``cram``, ``acsi``, ``ecsi_bank``, ``ecsi_mobile``."""
