"""config.yaml -> frozen Settings. Strict: unknown keys and wrong types are positioned errors.

Defaults live here and only here (docs/reference/config.md; a policy key is optional; absent means
no such limit). RAPPORT_DATABASE_URL wins over the file's `database` and is taken as
given; a relative SQLite path in the file is relative to the file's folder.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from engine.cap import Cap
from engine.durations import (
    DURATION_HINT,
    MAX_DURATION,
    MAX_DURATION_HINT,
    is_duration,
    parse_duration,
)
from engine.errors import InvalidInput, Problem
from engine.percent import PERCENT_HINT, parse_percent
from engine.schema_check import dotted, schema_problems
from engine.yamlpos import Document, Positions, load_document
from engine.zones import is_zone

DEFAULT_DATABASE = "sqlite:///rapport.db"
DEFAULT_TIMEZONE = "UTC"
DEFAULT_OPT_OUT_WORDS = ("stop", "unsubscribe", "opt out")

_DURATION = {
    "type": "string",
    "pattern": r"^\d+[smhdw]$",
    "x-hint": f"is not a duration ({DURATION_HINT})",
}
_PERCENT = {
    "type": "string",
    "pattern": r"^\d{1,3}(\.\d+)?%$",
    "x-hint": f"is not a percentage ({PERCENT_HINT})",
}
_CAP = {
    "type": "object",
    "x-noun": "a cap",
    "additionalProperties": False,
    "required": ["max", "per"],
    "properties": {"max": {"type": "integer", "minimum": 0}, "per": _DURATION},
}
_QUIET_HOURS = r"\d{2}:\d{2}-\d{2}:\d{2}"
# HOST:PORT; an IPv6 host in brackets ([::1]:8765).
_LISTEN = r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$"
_HANDLE = {
    "type": "string",
    "pattern": r"^@?[A-Za-z0-9_]{1,15}$",
    "x-hint": "is not an X handle (1-15 letters, digits or _)",
}


def _object(
    noun: str, properties: dict[str, Any], required: list[str] | None = None
) -> dict[str, Any]:
    return {
        "type": "object",
        "x-noun": noun,
        "additionalProperties": False,
        "properties": properties,
        "required": required or [],
    }


CONFIG_SCHEMA: dict[str, Any] = _object(
    "config.yaml",
    {
        "database": {"type": "string"},
        "timezone": {"type": "string"},
        "brand": _object(
            "brand",
            {
                "handle": _HANDLE,
                "keywords": {"type": "array", "items": {"type": "string"}},
                "competitors": {"type": "array", "items": {"type": "string"}},
            },
        ),
        "policy": _object(
            "policy",
            {
                "caps": {"type": "array", "items": _CAP},
                "min_gap": _DURATION,
                "quiet_hours": {
                    "type": "string",
                    "pattern": f"^{_QUIET_HOURS}$",
                    "x-hint": "is not a time range (use HH:MM-HH:MM, e.g. 21:00-09:00)",
                },
                "global_holdout": _PERCENT,
                "holdout_salt": {"type": "string"},
                "opt_out_words": {"type": "array", "items": {"type": "string", "minLength": 1}},
                "require_consent": {"type": "boolean"},
                "complaint_block": _DURATION,
            },
        ),
        "channels": _object(
            "channels",
            {
                "x": _object(
                    "the x channel",
                    {
                        "base_url": {"type": "string"},
                        "credentials_env": {"type": "string"},
                        "refresh_env": {"type": "string"},
                        "client_id_env": {"type": "string"},
                        "timeout": _DURATION,
                        "max_attempts": {"type": "integer", "minimum": 1},
                        "max_per_15m": {"type": "integer", "minimum": 1},
                        "max_per_24h": {"type": "integer", "minimum": 1},
                    },
                ),
                "review": _object("the review channel", {}),
            },
        ),
        "schedule": _object(
            "schedule",
            {
                "evaluate_every": _DURATION,
                "deliver_every": _DURATION,
                "poll_x_every": _DURATION,
            },
        ),
        "retention": _object("retention", {"decisions": _DURATION}),
        "review": _object(
            "review",
            {
                "expires": _DURATION,
                "listen": {
                    "type": "string",
                    "pattern": _LISTEN,
                    "x-hint": "is not an address (use HOST:PORT, e.g. 127.0.0.1:8765)",
                },
            },
        ),
        "report": _object(
            "report",
            {
                "responses": {
                    "type": "array",
                    "items": {
                        "type": "string",
                        "pattern": r"^[A-Za-z_][A-Za-z0-9_]{0,63}$",
                        "x-hint": "is not an event type (letters, digits and _)",
                    },
                },
                "window": _DURATION,
                "value_property": {
                    "type": "string",
                    "minLength": 1,
                    "x-hint": "is not a property name (the purchase property with the value,"
                    " e.g. amount)",
                },
                "cost_per_message": {"type": "number", "minimum": 0},
            },
        ),
        "daemon": _object(
            "daemon",
            {
                "metrics": {
                    "type": "string",
                    "pattern": _LISTEN,
                    "x-hint": "is not an address (use HOST:PORT, e.g. 127.0.0.1:9464)",
                },
            },
        ),
    },
)


@dataclass(frozen=True)
class Brand:
    handle: str = ""
    keywords: tuple[str, ...] = ()
    competitors: tuple[str, ...] = ()

    def as_context(self) -> dict[str, Any]:
        """`brand` as templates see it, the same at validate time and at send time."""
        return {
            "handle": self.handle,
            "keywords": list(self.keywords),
            "competitors": list(self.competitors),
        }


@dataclass(frozen=True)
class QuietHours:
    """Local-time window in which nothing is sent; may wrap midnight (21:00-09:00)."""

    start: time
    end: time

    def contains(self, local: time) -> bool:
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end


@dataclass(frozen=True)
class Policy:
    caps: tuple[Cap, ...] = ()
    min_gap: timedelta | None = None
    quiet_hours: QuietHours | None = None
    global_holdout: float = 0.0
    holdout_salt: str = "rapport"
    opt_out_words: tuple[str, ...] = DEFAULT_OPT_OUT_WORDS
    require_consent: bool = False
    # No proactive contact (channel review) this long after a complaint; None: never again.
    complaint_block: timedelta | None = None


@dataclass(frozen=True)
class XChannel:
    """How to reach X. The access token comes from the variable `credentials_env` names;
    with `refresh_env` (a variable holding a refresh token) the token is refreshed before
    it expires, the rotated refresh token kept in the database (engine/x/credentials.py);
    `client_id_env` names the variable with the app's OAuth 2.0 client id, which X wants
    with every refresh."""

    base_url: str = "https://api.x.com"
    credentials_env: str = "RAPPORT_X_TOKEN"
    refresh_env: str | None = None
    client_id_env: str | None = None
    timeout: timedelta = timedelta(seconds=10)
    max_attempts: int = 5  # 5xx and connection errors: tries before a message is failed
    max_per_15m: int = 100
    max_per_24h: int = 2400


@dataclass(frozen=True)
class Schedule:
    evaluate_every: timedelta = timedelta(minutes=5)
    deliver_every: timedelta = timedelta(seconds=30)
    poll_x_every: timedelta = timedelta(minutes=2)


@dataclass(frozen=True)
class Review:
    """The review queue: pending and approved-but-unposted messages expire after `expires`;
    the local review page listens on `host:port` (loopback unless configured otherwise)."""

    expires: timedelta = timedelta(days=3)
    host: str = "127.0.0.1"
    port: int = 8765

    @property
    def listen(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def _review(data: dict[str, Any]) -> Review:
    defaults = Review()
    host, port = defaults.host, defaults.port
    if "listen" in data:
        host, _, port_text = data["listen"].rpartition(":")
        host, port = host.strip("[]"), int(port_text)
    expires = _duration(data, "expires")
    return Review(
        expires=expires if expires is not None else defaults.expires, host=host, port=port
    )


@dataclass(frozen=True)
class Report:
    """What `rapport report` counts as a response, and what a message costs.

    Replies to our messages are engagement, not responses for lift: a control customer
    cannot reply to a message they never got, so counting replies would favour treatment.
    """

    responses: tuple[str, ...] = ("purchase",)
    window: timedelta = timedelta(days=14)
    value_property: str = "amount"
    cost_per_message: float = 0.0


@dataclass(frozen=True)
class Daemon:
    """`daemon:` settings. `metrics` is the HOST:PORT of the Prometheus endpoint
    (engine/ops/metrics.py); absent, there is none. Port 0 picks a free port (tests)."""

    metrics: str | None = None

    @property
    def metrics_address(self) -> tuple[str, int] | None:
        if self.metrics is None:
            return None
        host, port = self.metrics.rsplit(":", 1)
        return host, int(port)


@dataclass(frozen=True)
class Settings:
    database: str = DEFAULT_DATABASE
    timezone: str = DEFAULT_TIMEZONE
    brand: Brand = field(default_factory=Brand)
    policy: Policy = field(default_factory=Policy)
    x: XChannel = field(default_factory=XChannel)
    schedule: Schedule = field(default_factory=Schedule)
    decision_retention: timedelta = timedelta(days=90)
    review: Review = field(default_factory=Review)
    report: Report = field(default_factory=Report)
    daemon: Daemon = field(default_factory=Daemon)
    project_dir: Path = field(default_factory=Path.cwd)

    @property
    def rules_dir(self) -> Path:
        return self.project_dir / "rules"

    @property
    def templates_dir(self) -> Path:
        return self.project_dir / "templates"


def _duration(data: dict[str, Any], key: str) -> timedelta | None:
    return parse_duration(data[key]) if key in data else None


def _or_default(value: timedelta | None, default: timedelta) -> timedelta:
    """`retention: {decisions: 0d}` means keep none; `or` would read 0d as absent."""
    return value if value is not None else default


def _quiet_hours(text: str | None) -> QuietHours | None:
    if text is None:
        return None
    start, end = (time.fromisoformat(part) for part in text.split("-"))
    return QuietHours(start, end)


def _brand(data: dict[str, Any]) -> Brand:
    return Brand(
        handle=data.get("handle", "").lstrip("@"),
        keywords=tuple(data.get("keywords", ())),
        competitors=tuple(data.get("competitors", ())),
    )


def _policy(data: dict[str, Any]) -> Policy:
    defaults = Policy()
    return Policy(
        caps=tuple(Cap(c["max"], parse_duration(c["per"])) for c in data.get("caps", [])),
        min_gap=_duration(data, "min_gap"),
        quiet_hours=_quiet_hours(data.get("quiet_hours")),
        global_holdout=parse_percent(data["global_holdout"]) if "global_holdout" in data else 0.0,
        holdout_salt=data.get("holdout_salt", defaults.holdout_salt),
        opt_out_words=tuple(w.lower() for w in data.get("opt_out_words", DEFAULT_OPT_OUT_WORDS)),
        require_consent=data.get("require_consent", defaults.require_consent),
        complaint_block=_duration(data, "complaint_block"),
    )


def _x_channel(data: dict[str, Any]) -> XChannel:
    values = dict(data)
    if "timeout" in values:
        values["timeout"] = parse_duration(values["timeout"])
    return XChannel(**values)


def _report(data: dict[str, Any]) -> Report:
    defaults = Report()
    return Report(
        responses=tuple(data.get("responses", defaults.responses)),
        window=_or_default(_duration(data, "window"), defaults.window),
        value_property=data.get("value_property", defaults.value_property),
        cost_per_message=float(data.get("cost_per_message", defaults.cost_per_message)),
    )


def beside(url: str, project_dir: Path) -> str:
    """A relative SQLite path in config.yaml is relative to the config file, not the cwd:
    a daemon started from another folder must use the same ledger as the CLI."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return url  # Database.open names the bad URL
    path = parsed.database or ""
    relative = path not in ("", ":memory:") and not Path(path).is_absolute()
    if parsed.get_backend_name() != "sqlite" or not relative or "uri" in parsed.query:
        return url
    return parsed.set(database=str(project_dir / path)).render_as_string(hide_password=False)


def _section(data: Any, key: str) -> dict[str, Any]:
    found = data.get(key) if isinstance(data, dict) else None
    return found if isinstance(found, dict) else {}


def _durations(data: Any) -> Iterator[tuple[tuple[str | int, ...], Any, bool]]:
    """(path, value, must be positive) for every duration in the file."""
    policy = _section(data, "policy")
    for key in ("min_gap", "complaint_block"):
        if key in policy:
            yield ("policy", key), policy[key], False
    caps = policy.get("caps")
    for i, cap in enumerate(caps if isinstance(caps, list) else []):
        if isinstance(cap, dict) and "per" in cap:
            yield ("policy", "caps", i, "per"), cap["per"], True  # a cap per 0s: a zero window
    x = _section(_section(data, "channels"), "x")
    if "timeout" in x:
        yield ("channels", "x", "timeout"), x["timeout"], True
    review = _section(data, "review")
    if "expires" in review:
        yield ("review", "expires"), review["expires"], True  # 0s: expired on arrival
    for section, positive in (("schedule", True), ("retention", False)):
        for key, value in _section(data, section).items():
            yield (section, key), value, positive  # schedule 0s: a busy loop
    report = _section(data, "report")
    if "window" in report:
        yield ("report", "window"), report["window"], True  # a 0s window: nobody responds


def _duration_problems(doc: Document) -> list[Problem]:
    """Durations the schema's pattern lets through: too big for a timedelta, or zero where a
    zero means a busy loop or an empty window."""
    problems = []
    for path, value, positive in _durations(doc.data):
        if not is_duration(value):
            continue  # the schema already said so
        where = dotted(path)
        try:
            length = parse_duration(value)
        except ValueError as exc:
            problems.append(doc.problem(path, f"{where}: {exc}"))
            continue
        if positive and length < timedelta(seconds=1):
            problems.append(doc.problem(path, f"{where}: {value!r} is too short (use at least 1s)"))
        elif length > MAX_DURATION:
            problems.append(
                doc.problem(path, f"{where}: {value!r} is too long ({MAX_DURATION_HINT})")
            )
    return problems


def _window_problems(doc: Document, quiet: Any) -> list[Problem]:
    """A window that starts where it ends is empty: a typo, since no one configures a
    quiet time that never applies (absent quiet_hours already means none)."""
    if not isinstance(quiet, str) or not re.fullmatch(_QUIET_HOURS, quiet):
        return []
    start, end = quiet.split("-")
    if start != end:
        return []
    return [
        doc.problem(
            ("policy", "quiet_hours"),
            f"policy.quiet_hours: {quiet!r} starts and ends at the same time, an empty window"
            " that never applies (remove quiet_hours for none, or give a window such as"
            " 21:00-09:00)",
        )
    ]


def _cap_problems(doc: Document, caps: Any) -> list[Problem]:
    """`max: 0` would silently stop every message; pausing is the way to do that."""
    problems = []
    for i, cap in enumerate(caps if isinstance(caps, list) else []):
        if isinstance(cap, dict) and cap.get("max") == 0 and cap.get("max") is not False:
            problems.append(
                doc.problem(
                    ("policy", "caps", i, "max"),
                    f"policy.caps[{i}].max: 0 would forbid every message (use at least 1;"
                    " to stop sending, pause it or remove the cadences)",
                )
            )
    return problems


def _semantic_problems(doc: Document) -> list[Problem]:
    """What the schema cannot say: real time zones, real clock times, sane percentages."""
    data, problems = doc.data, []
    if isinstance(data.get("timezone"), str) and not is_zone(data["timezone"]):
        problems.append(
            doc.problem(
                ("timezone",),
                f"timezone: {data['timezone']!r} is not "
                "an IANA time zone (e.g. America/Los_Angeles, Europe/Paris)",
            )
        )
    policy = _section(data, "policy")
    quiet = policy.get("quiet_hours")
    if isinstance(quiet, str) and re.fullmatch(_QUIET_HOURS, quiet):
        try:
            _quiet_hours(quiet)
        except ValueError:
            problems.append(
                doc.problem(
                    ("policy", "quiet_hours"),
                    f"policy.quiet_hours: {quiet!r} "
                    "has an impossible time (hours 00-23, minutes 00-59)",
                )
            )
    problems += _window_problems(doc, quiet) + _cap_problems(doc, policy.get("caps"))
    if isinstance(policy.get("global_holdout"), str):
        try:
            parse_percent(policy["global_holdout"])
        except ValueError as exc:
            problems.append(
                doc.problem(("policy", "global_holdout"), f"policy.global_holdout: {exc}")
            )
    problems += _port_problems(doc, ("review", "listen"), example="8765")
    problems += _port_problems(doc, ("daemon", "metrics"), example="127.0.0.1:9464")
    return problems + _duration_problems(doc)


def _port_problems(doc: Document, path: tuple[str, str], *, example: str) -> list[Problem]:
    """A HOST:PORT whose port no socket can have (the schema checked the shape)."""
    address = _section(doc.data, path[0]).get(path[1])
    if not isinstance(address, str) or not re.fullmatch(_LISTEN, address):
        return []
    port = int(address.rpartition(":")[2])
    if 1 <= port <= 65535:
        return []
    return [
        doc.problem(
            path, f"{dotted(path)}: port {port} is out of range (use 1-65535, e.g. {example})"
        )
    ]


def settings_from_document(doc: Document, project_dir: Path) -> Settings:
    data = doc.data if doc.data is not None else {}
    doc = Document(doc.file, data, doc.positions)
    problems = schema_problems(doc, CONFIG_SCHEMA)
    if isinstance(data, dict):
        problems += _semantic_problems(doc)
    if problems:
        raise InvalidInput(problems)
    x = data.get("channels", {}).get("x", {})
    schedule = data.get("schedule", {})
    defaults = Settings()
    return Settings(
        database=os.environ.get("RAPPORT_DATABASE_URL")
        or beside(data.get("database", DEFAULT_DATABASE), project_dir),
        timezone=data.get("timezone", DEFAULT_TIMEZONE),
        brand=_brand(data.get("brand", {})),
        policy=_policy(data.get("policy", {})),
        x=_x_channel(x),
        schedule=Schedule(**{k: parse_duration(v) for k, v in schedule.items()}),
        decision_retention=_or_default(
            _duration(data.get("retention", {}), "decisions"), defaults.decision_retention
        ),
        review=_review(data.get("review", {})),
        report=_report(data.get("report", {})),
        daemon=Daemon(metrics=data.get("daemon", {}).get("metrics")),
        project_dir=project_dir,
    )


def load_settings(
    path: str | os.PathLike[str] = "config.yaml", *, required: bool = False
) -> Settings:
    """Read config.yaml: a missing default file means all defaults, a missing named one an error."""
    file = Path(path)
    if not file.exists():
        if required or str(path) != "config.yaml":
            raise InvalidInput([Problem(str(path), 0, 0, "no such config file (check --config)")])
        return settings_from_document(Document(str(path), {}, Positions()), Path.cwd())
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InvalidInput(
            [Problem(str(path), 0, 0, "not UTF-8 text (save it as UTF-8)")]
        ) from None
    except OSError as exc:  # a folder, no permission…
        raise InvalidInput([Problem(str(path), 0, 0, f"cannot read ({exc.strerror})")]) from None
    doc, problems = load_document(text, str(path))
    if problems or doc is None:
        raise InvalidInput(problems)
    return settings_from_document(doc, file.resolve().parent)
