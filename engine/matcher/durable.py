"""The durable_rules backend: the only module of Rapport that imports durable.

How durable_rules is used, and why:
- Rulesets go in as JSON through Host.set_rulesets; each rule's action is bound by name
  (Host.get_action) to a function that records (request, condition).
- Facts, not events: an event that fires one rule is consumed and never reaches the
  others, while every condition must see every request.
- One session (sid) per customer: the customer fact (attributes + the aggregates the
  conditions use) and one request fact per MatchRequest, asserted together; the state
  is deleted right after, so at most one session is live (the C core allows 1024).
- MessageNotHandledException means "nothing matched".
- Each ruleset runs one warm-up action before use (see _warm_up: a durable_rules crash),
  and holds every fact (see _HOLD_EVERY_FACT), so a whole customer is one assert_facts.
- durable_rules is not thread-safe and its Host starts timer threads that dispatch
  actions in the background; ours starts none and a lock keeps one caller at a time.
- Conditions durable_rules cannot express (compile.Unsupported: a name compared with
  another name, `not (x contains "..")`, '%', '\\' or control characters inside
  contains) are answered by the reference evaluator, explicitly: `fallback_reasons`
  lists them.
  So are literals and fact values durable_rules cannot read exactly (slots.UnsafeValue:
  exponent floats, numbers beyond 2**53): such a condition is in `fallback_reasons`;
  such a customer's (or event's) requests are answered by the reference evaluator.
"""

from __future__ import annotations

import copy
import itertools
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from durable import engine as durable_engine

from engine.conditions.ast import Expr
from engine.conditions.evaluate import evaluate
from engine.matcher import MatchRequest
from engine.matcher.compile import condition_rules
from engine.matcher.formula import Unsupported
from engine.matcher.slots import SlotTable, UnsafeValue

_LOCK = threading.Lock()
_RULESET_NUMBERS = itertools.count(1)
_SESSION_NUMBERS = itertools.count(1)


class _Host(durable_engine.Host):
    """A Host with actions looked up by name and no background dispatch threads."""

    def __init__(self) -> None:
        self.actions: dict[str, Callable[[Any], None]] = {_WARM_ACTION: lambda closure: None}
        super().__init__()

    def get_action(self, action_name: str) -> Callable[[Any], None]:
        return self.actions[action_name]

    def _run(self) -> None:
        """No timer threads: we use no timers, and actions run inside our own calls."""


_host: _Host | None = None


def _shared_host() -> _Host:
    """One durable engine per process; every matcher registers its ruleset here."""
    global _host
    if _host is None:
        _host = _Host()
    return _host


_WARM_ACTION = "rapport/warm"
# assert_facts raises MessageNotHandledException for the whole batch, and runs none of
# its actions, as soon as one fact of the batch matches no pattern. This rule takes
# every fact into its first pattern and never fires (no fact has k == "never"), so a
# batch is always handled and every rule that matched gets its action run.
_HOLD_EVERY_FACT = {
    "all": [{"m": {"$or": [{"k": "c"}, {"k": "e"}]}}, {"n": {"k": "never"}}],
    "run": _WARM_ACTION,
}


def _warm_up(host: _Host, ruleset: str) -> None:
    """Run one action in a throw-away session before real use.

    durable_rules 2.0.28 crashes (double free) in delete_state on a ruleset in which no
    action has run yet; once one has, delete_state is safe whatever matched.
    """
    sid = f"warm-{ruleset}"
    host.assert_fact(ruleset, {"sid": sid, "k": "warm"})
    host.delete_state(ruleset, sid)


class DurableMatcher:
    def __init__(self, conditions: Mapping[str, Expr]) -> None:
        self.conditions = dict(conditions)
        self.fallback_reasons: dict[str, str] = {}
        self._names = list(self.conditions)
        self._hits: list[tuple[int, int]] = []
        self._slots = SlotTable(self.conditions.values())
        self._ruleset = f"rapport_{next(_RULESET_NUMBERS)}"
        rules: dict[str, Any] = {}
        with _LOCK:
            host = _shared_host()
            for index, name in enumerate(self._names):
                action = f"{self._ruleset}/{index}"
                try:
                    compiled = condition_rules(self.conditions[name], self._slots, action)
                except Unsupported as why:
                    self.fallback_reasons[name] = str(why)
                    continue
                host.actions[action] = self._recorder(index)
                rules.update({f"{index}_{n}": rule for n, rule in enumerate(compiled)})
            self.rule_count = len(rules)
            if rules:
                rules["warm"] = {"all": [{"m": {"k": "warm"}}], "run": _WARM_ACTION}
                rules["held"] = copy.deepcopy(_HOLD_EVERY_FACT)  # durable pops "run"
                host.set_rulesets({self._ruleset: rules})
                _warm_up(host, self._ruleset)
        self._in_durable = frozenset(self._names) - frozenset(self.fallback_reasons)

    def _recorder(self, index: int) -> Callable[[Any], None]:
        hits = self._hits

        def record(closure: Any) -> None:
            hits.append((closure._m["e"]["rq"], index))

        return record

    def match(self, requests: Sequence[MatchRequest]) -> list[frozenset[str]]:
        for request in requests:
            if unknown := request.conditions - self.conditions.keys():
                raise KeyError(f"unknown conditions {sorted(unknown)}")
        with _LOCK:
            found, by_reference = self._run_sessions(requests) if self.rule_count else ({}, set())
        answers = []
        for rq, request in enumerate(requests):
            asked = request.conditions
            names = {self._names[i] for i in found.get(rq, ())} & asked
            for name in asked if rq in by_reference else asked - self._in_durable:
                if evaluate(self.conditions[name], request.facts):
                    names.add(name)
            answers.append(frozenset(names))
        return answers

    def _run_sessions(
        self, requests: Sequence[MatchRequest]
    ) -> tuple[dict[int, set[int]], set[int]]:
        """Conditions found per request, and the requests durable could not be given."""
        sessions: dict[tuple[str, int, int], list[int]] = {}
        for rq, request in enumerate(requests):
            facts = request.facts
            key = (request.customer_id, id(facts.customer), id(facts.aggregates))
            sessions.setdefault(key, []).append(rq)
        self._hits.clear()
        by_reference: set[int] = set()
        host = _shared_host()
        for members in sessions.values():
            by_reference |= self._one_session(host, requests, members)
        found: dict[int, set[int]] = {}
        for rq, index in self._hits:
            found.setdefault(rq, set()).add(index)
        return found, by_reference

    def _one_session(
        self, host: _Host, requests: Sequence[MatchRequest], members: list[int]
    ) -> set[int]:
        """Assert one customer's facts; returns the requests left to the reference evaluator."""
        sid = str(next(_SESSION_NUMBERS))
        first = requests[members[0]].facts
        try:
            batch = [self._slots.customer_fact(sid, first.customer, first.aggregates)]
        except UnsafeValue:
            return set(members)
        unsafe = set()
        for rq in members:
            try:
                batch.append(self._slots.request_fact(sid, rq, requests[rq].facts.event))
            except UnsafeValue:
                unsafe.add(rq)
        try:
            host.assert_facts(self._ruleset, batch)
        except durable_engine.MessageNotHandledException:
            pass  # no rule matched: no condition holds for these requests
        finally:
            host.delete_state(self._ruleset, sid)
        return unsafe
