"""The contact ledger: its vocabulary (states and their transitions in `states`, decision
outcomes and reasons in `decisions`) and the sinks that write an evaluation's changes
(`sinks`). The tables live in engine.history.models."""
