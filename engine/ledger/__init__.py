"""The contact ledger's vocabulary: states and their transitions (`states`), decision
outcomes and reasons (`decisions`). The tables live in engine.history.models."""
