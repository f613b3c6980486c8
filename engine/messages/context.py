"""What a template may see: plain data built once per message, never ORM rows or callables.

Templates are written by marketers and rendered in a sandbox; handing them live objects
would hand them methods, lazy loads and the database session. So `MessageContext.build`
copies what a message needs into `Record`s (dicts that remember their path, for error
messages such as "customer.city is missing"), tuples, strings, numbers and datetimes.

Run, preview, explain, simulate and `rapport validate` all build a message's context here,
so a template sees the same names whichever command renders it.

History values, for template authors: `history["…"]` holds the value of one history
function, written exactly as in a condition — `history["count(purchase)"]`,
`history["sum(purchase.amount, 365d)"]`, `history["days_since(purchase)"]`,
`history["last(purchase.product)"]`. Spaces do not matter
(`history["sum(purchase.amount,365d)"]` is the same value); the canonical spelling is the
condition printer's (`history_key`). Every history function a template names is computed
for it, whether or not a condition uses it. `days_since` and `last` are null when the
customer never had such an event; write `history["days_since(purchase)"]|default(0)`.
The key must be written out (a literal string), so Rapport can see which values to compute.
See docs/templates.md.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from engine import clock
from engine.conditions import Aggregate, ConditionError, parse_condition, pretty
from engine.durations import Duration, format_duration
from engine.zones import UnknownTimeZone, zone

VARIABLES = ("customer", "event", "cadence", "step", "brand", "history", "now")

_CUSTOMER_FIELDS = ("id", "handle", "name", "timezone", "kind")
_EVENT_FIELDS = ("type", "occurred_at")


HISTORY_EXAMPLE = 'history["count(purchase)"]'


def spelling(aggregate: Aggregate) -> str:
    """The canonical key of a history value: the aggregate as the condition printer writes it."""
    return pretty(aggregate)


def history_aggregate(written: str) -> Aggregate:
    """The aggregate a `history["…"]` key names, however it is spaced; ValueError if none."""
    aggregate = _parse_key(written)
    if isinstance(aggregate, str):
        raise ValueError(aggregate)
    return aggregate


def history_key(written: str | Aggregate) -> str:
    """The canonical spelling of a key written in a template, a condition or Aggregate.key."""
    if isinstance(written, Aggregate):
        return spelling(written)
    return spelling(history_aggregate(written))


@lru_cache(maxsize=4096)  # asked once per value per message at runtime: parse each text once
def _parse_key(written: str) -> Aggregate | str:
    try:
        expr = parse_condition(written)
    except ConditionError as error:
        if "(" in written:  # meant as a function: the parser says what is wrong with it
            return f"history[{written!r}]: {error.reason} (write e.g. {HISTORY_EXAMPLE})"
        expr = None
    if not isinstance(expr, Aggregate):
        return (
            f"history[{written!r}] is not a history function"
            f" (write one as in a condition, e.g. {HISTORY_EXAMPLE})"
        )
    return expr


class Record(dict[str, Any]):
    """A plain dict that knows where it sits in the context ("customer", "event.properties").

    Only the path is extra: it lets a missing key be reported as `customer.city` rather
    than "'dict object' has no attribute 'city'".
    """

    __slots__ = ("path",)

    def __init__(self, path: str, data: Mapping[str, Any] | None = None) -> None:
        super().__init__(data or {})
        self.path = path


def plain(value: Any, path: str, tz: ZoneInfo | None = None) -> Any:
    """Copy `value` into template-safe data; anything unknown becomes its text."""
    if value is None or isinstance(value, bool | int | float | str | Decimal):
        return value
    if isinstance(value, datetime):
        aware = clock.as_utc(value)
        return aware.astimezone(tz) if tz is not None else aware
    if isinstance(value, date | time):
        return value
    if isinstance(value, timedelta):  # str() would say "1 day, 0:00:00"
        return str(value) if isinstance(value, Duration) else format_duration(value)
    if isinstance(value, Mapping):
        return Record(path, {str(k): plain(v, f"{path}.{k}", tz) for k, v in value.items()})
    if isinstance(value, list | tuple | set | frozenset):
        return tuple(plain(item, path, tz) for item in value)
    return str(value)


def _field(source: Any, name: str, default: Any = None) -> Any:
    if isinstance(source, Mapping):
        return source.get(name, default)
    return getattr(source, name, default)


def _zone(name: Any, default_timezone: str) -> ZoneInfo:
    """The customer's zone, else the project's, else UTC: a message is never lost to a typo."""
    for candidate in (name, default_timezone):
        if isinstance(candidate, str) and candidate:
            try:
                return zone(candidate)
            except UnknownTimeZone:
                continue
    return zone("UTC")


def _as_mapping(source: Any) -> Mapping[str, Any]:
    if source is None:
        return {}
    if isinstance(source, Mapping):
        return source
    if dataclasses.is_dataclass(source) and not isinstance(source, type):
        return dataclasses.asdict(source)
    return dict(vars(source))


def _history(values: Mapping[Any, Any] | None) -> dict[str, Any]:
    """History values under their canonical keys; a key that names no aggregate stays as is."""
    keyed: dict[str, Any] = {}
    for key, value in (values or {}).items():
        try:
            keyed[history_key(key)] = value
        except ValueError:
            keyed[str(key)] = value
    return keyed


def _customer(source: Any, tz: ZoneInfo) -> Record:
    attributes = plain(_field(source, "attributes") or {}, "customer.attributes", tz)
    record = Record("customer", attributes)
    external_id = _field(source, "external_id")
    core = {name: _field(source, name) for name in _CUSTOMER_FIELDS}
    if external_id is not None:
        core["id"] = external_id  # the marketer's id, not the database key
    core["timezone"] = tz.key
    core["kind"] = core["kind"] or "customer"
    record.update({name: plain(value, f"customer.{name}", tz) for name, value in core.items()})
    record["attributes"] = attributes
    return record


def _event(source: Any, tz: ZoneInfo) -> Record | None:
    if source is None:
        return None
    raw = _field(source, "properties")
    if raw is None and isinstance(source, Mapping):
        # the evaluation's flat shape ({**properties, type, occurred_at, ordinal}): the same
        # template reads event.amount and event.properties.amount whichever shape came in
        raw = {k: v for k, v in source.items() if k not in (*_EVENT_FIELDS, "ordinal")}
    properties = plain(raw or {}, "event.properties", tz)
    record = Record("event", properties)
    for name in _EVENT_FIELDS:
        record[name] = plain(_field(source, name), f"event.{name}", tz)
    if isinstance(source, Mapping):  # extra keys such as ordinal come along
        for key, value in source.items():
            if key not in record and key != "properties":
                record[str(key)] = plain(value, f"event.{key}", tz)
    record["properties"] = properties
    return record


@dataclass(frozen=True)
class MessageContext:
    """Everything one message's template can read. `now` is in the customer's time zone."""

    customer: Mapping[str, Any]
    event: Mapping[str, Any] | None
    cadence: str
    step: str
    brand: Mapping[str, Any]
    history: Mapping[str, Any] = field(default_factory=dict)
    now: datetime = field(default_factory=clock.now)

    @classmethod
    def build(
        cls,
        *,
        customer: Any,
        event: Any = None,
        cadence: str,
        step: str,
        brand: Mapping[str, Any] | Any = None,
        history: Mapping[str, Any] | Mapping[Aggregate, Any] | None = None,
        now_utc: datetime | None = None,
        default_timezone: str = "UTC",
    ) -> MessageContext:
        """Copy rows or mappings into plain data, with times in the customer's zone."""
        tz = _zone(_field(customer, "timezone"), default_timezone)
        brand_data = _as_mapping(brand)
        return cls(
            customer=_customer(customer, tz),
            event=_event(event, tz),
            cadence=cadence,
            step=step,
            brand=plain(brand_data, "brand", tz),
            history=plain(_history(history), "history", tz),
            now=clock.as_utc(now_utc or clock.now()).astimezone(tz),
        )

    def variables(self) -> dict[str, Any]:
        """The names a template sees (`VARIABLES`)."""
        return {
            "customer": self.customer,
            "event": self.event if self.event is not None else Record("event"),
            "cadence": self.cadence,
            "step": self.step,
            "brand": self.brand,
            "history": self.history,
            "now": self.now,
        }
