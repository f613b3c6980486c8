"""The read model: what an evaluation knows about a customer, read once per batch.

Plain frozen objects (`model.py`) built from the database; the evaluation's core and
the contact policy read only these, never SQL rows, so both stay testable with a few
constructors and identical for run, preview and simulate.
"""

from __future__ import annotations

from engine.facts.model import CustomerFacts, EventFacts, PastContact, SuppressionFacts

__all__ = ["CustomerFacts", "EventFacts", "PastContact", "SuppressionFacts"]
