"""The contact ledger: states and their transitions (tables live in engine.history.models)."""
