"""What a template may see: plain data built once per message, never ORM rows or callables.

Templates are written by marketers and rendered in a sandbox; handing them live objects
would hand them methods, lazy loads and the database session. So `MessageContext.build`
copies what a message needs into `Record`s (dicts that remember their path, for error
messages such as "customer.city is missing"), tuples, strings, numbers and datetimes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from engine import clock
from engine.durations import Duration, format_duration
from engine.zones import UnknownTimeZone, zone

VARIABLES = ("customer", "event", "cadence", "step", "brand", "history", "now")

_CUSTOMER_FIELDS = ("id", "handle", "name", "timezone", "kind")
_EVENT_FIELDS = ("type", "occurred_at")


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
    properties = plain(_field(source, "properties") or {}, "event.properties", tz)
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
        history: Mapping[str, Any] | None = None,
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
            history=plain(history or {}, "history", tz),
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
