"""Rapport: contact strategies for relationship marketing on X."""

__version__ = "0.1.0"
