"""Measurement quality: item statistics, reliability and validity, exploratory factor analysis.

The statistics live in two modules named after what they own:
:mod:`satisfaction.reliability` (item statistics, alpha, omega, composite
reliability, AVE, Fornell-Larcker, HTMT) and :mod:`satisfaction.efa` (KMO,
Bartlett, scree and parallel analysis, extraction and rotation). This module
gathers their public API under one name, the one the pipeline and the report
use. The confirmatory factor analysis itself is :func:`satisfaction.model.fit`
on :func:`measurement_model`. Both results keep their warnings as
:class:`~satisfaction.diagnostics.Diagnostic` records and a gate ``status``;
:func:`require_analysable` refuses items a factor model cannot use. With respondent
weights (``reliability(..., weights=)``, ``efa(..., weights=)``, the pipeline's
questionnaire weighting) the CFA is lavaan's ``sampling.weights`` and α, HTMT, the
item statistics and the EFA use the weighted covariances and correlations
(tests/test_measurement_weights.py against lavaan, semTools, psych and survey).

Example
-------
>>> from satisfaction.questionnaire import load_questionnaire
>>> from satisfaction.responses import load_responses
>>> q = load_questionnaire("ecsi_bank")
>>> data = load_responses(q, "../shared/data/bank_satisfaction.csv").data
>>> result = reliability(q, data)
>>> round(float(result.constructs.loc["Image", "alpha"]), 3)
0.822
"""

from __future__ import annotations

from satisfaction.efa import EFAResult, ParallelAnalysis, efa, parallel_analysis, require_analysable
from satisfaction.reliability import (
    ReliabilityResult,
    average_variance_extracted,
    composite_reliability,
    cronbach_alpha,
    fornell_larcker,
    htmt,
    item_statistics,
    measurement_model,
    omega,
    reliability,
)

__all__ = [
    "EFAResult",
    "ParallelAnalysis",
    "ReliabilityResult",
    "average_variance_extracted",
    "composite_reliability",
    "cronbach_alpha",
    "efa",
    "fornell_larcker",
    "htmt",
    "item_statistics",
    "measurement_model",
    "omega",
    "parallel_analysis",
    "reliability",
    "require_analysable",
]
