"""Measurement: responses within a window, lift against the holdout, ROI, charts.

responses.py   units (one step of one enrolment) and who responded, from the ledger
statistics.py  Newcombe and Welch intervals (statsmodels); "lift unknown" when too small
tables.py      rows per cadence, step and variant, and the global holdout; JSON
text.py        the terminal report
charts.py      PNG charts (matplotlib, Agg)
html.py        one self-contained HTML file
"""

from __future__ import annotations

from engine.config import Report
from engine.history.db import Database
from engine.reporting.responses import Scope, load_units
from engine.reporting.tables import MeasurementReport, build_report

__all__ = ["MeasurementReport", "Scope", "build_report", "load_units", "measure"]


def measure(db: Database, scope: Scope, settings: Report) -> MeasurementReport:
    """Units from the ledger, then the tables: what every output format starts from."""
    return build_report(load_units(db, scope, settings), scope, settings)
