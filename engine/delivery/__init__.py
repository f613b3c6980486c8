"""Delivery: the outbox leaves for X here (engine/delivery/outbox.py)."""
