"""Exposure reports as files: pure functions from the API's JSON dicts to bytes (no database, no HTTP).

* ``csv_report.exposure_csv`` — one row per agent and local day, flat columns, for spreadsheets.
* ``pdf_report.exposure_pdf`` — a crew's period: summary table, one page of daily charts per agent, methods.
* ``pdf_report.annual_pdf`` — one agent's D4163-2 annual statement on one page.
* ``methods`` — the "how these numbers were obtained" text of each report, in French and English.

The numbers are rendered, never recomputed: judgements (action reached, limit exceeded) are the API's; the
thresholds drawn on charts are the ``services.exposure`` constants. The HTTP routes and the CLI that call
these functions live elsewhere.
"""
