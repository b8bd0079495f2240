"""satisfaction: survey and customer-satisfaction analysis.

Questionnaires are YAML data (:mod:`satisfaction.questionnaire`); responses are
loaded and screened by :mod:`satisfaction.responses`; the statistics live in
modules named after what they own (measurement, model, drivers, compare,
value); :mod:`satisfaction.report` renders the results.
"""

__version__ = "0.1.0"
