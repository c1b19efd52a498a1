"""GB/T 45654 security self-assessment: taxonomy, banks, keyword library, targets, runs, judges, reports.

Public, stable APIs reused by other areas:
- :mod:`cnai.core.taxonomy`: ``load_taxonomy()``, ``RISK_CODES``, ``normalize_risk_code()``.
- :mod:`cnai.assess.keywords`: ``load_keyword_library(path|None)``, ``KeywordLibrary.matcher().find_all(text)``.
"""
