"""The local review page: a small WSGI app on the standard library's wsgiref server.

Why the standard library: six routes, forms and redirects; wsgiref and Jinja (already a
dependency) do it without a web framework to install, pin and keep up with.

Security, for a page that can approve @mentions in the brand's name:
- it listens on loopback unless review.listen says otherwise;
- a random token printed at start is required once (`/?token=…`, as Jupyter does); it
  becomes a session cookie (HttpOnly, SameSite=Strict), then the URL drops it;
- every state change is a POST carrying the session's CSRF token;
- HTML comes from its own Jinja environment with autoescape on — not the message sandbox —
  so customer-written text (names, post texts) is always shown as text; a Content
  Security Policy allows only this page's own script and style.
The reviewer's name is asked once per browser session: an audit trail, not a login.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from http import HTTPStatus
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from engine import clock
from engine.durations import format_duration
from engine.errors import RapportError
from engine.history.db import Database
from engine.ledger.states import ContactState
from engine.messages.length import MAX_WEIGHTED_LENGTH
from engine.ops.pause import pauses
from engine.review import queue
from engine.review.items import load_items
from engine.review.queue import Reviewer, RuleFacts

HERE = Path(__file__).resolve().parent
COOKIE = "rapport_review"
MAX_BODY = 64 * 1024
MAX_NAME = 200
STATIC = {"review.css": "text/css", "review.js": "text/javascript"}
SECURITY_HEADERS = [
    (
        "Content-Security-Policy",
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self';"
        " form-action 'self' https://x.com; base-uri 'none'; frame-ancestors 'none'",
    ),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("Cache-Control", "no-store"),
]
StartResponse = Callable[..., Any]


def environment() -> Environment:
    """The page's own Jinja: autoescape on for every template, whatever its name."""
    return Environment(
        loader=FileSystemLoader(HERE / "templates"), autoescape=True, undefined=StrictUndefined
    )


@dataclass
class BrowserSession:
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    reviewer: str | None = None
    notes: dict[int | None, tuple[str, str]] = field(default_factory=dict)  # id → (kind, text)
    drafts: dict[int, str] = field(default_factory=dict)  # refused texts, shown again


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    form: dict[str, list[str]]
    cookie: str | None

    def field(self, name: str) -> str:
        return (self.form.get(name) or [""])[0]


class Response(Exception):  # raised to answer early, like an HTTP error
    def __init__(
        self, status: HTTPStatus, body: str = "", headers: Iterable[tuple[str, str]] = ()
    ) -> None:
        self.status, self.body, self.headers = status, body, list(headers)


def redirect(location: str, headers: Iterable[tuple[str, str]] = ()) -> Response:
    return Response(HTTPStatus.SEE_OTHER, "", [("Location", location), *headers])


class ReviewPage:
    """The WSGI application: one instance per `rapport review --serve`."""

    def __init__(self, database: Database, settings: Any, rules: RuleFacts, *, token: str) -> None:
        self.database, self.settings, self.rules, self.token = database, settings, rules, token
        self.sessions: dict[str, BrowserSession] = {}
        self.jinja = environment()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        try:
            request = _request(environ)
            response = self.route(request)
        except Response as answer:
            response = answer
        content_type = "text/html; charset=utf-8"
        headers = [*SECURITY_HEADERS, *response.headers]
        if not any(name == "Content-Type" for name, _ in headers):
            headers.append(("Content-Type", content_type))
        status = f"{response.status.value} {response.status.phrase}"
        start_response(status, headers)
        return [response.body.encode("utf-8")]

    def route(self, request: Request) -> Response:
        if request.method == "GET" and request.path.startswith("/static/"):
            return _static(request.path.removeprefix("/static/"))
        session = self._session(request)
        if request.method == "GET" and request.path == "/":
            return Response(HTTPStatus.OK, self._render(session))
        if request.method != "POST":
            raise Response(HTTPStatus.NOT_FOUND, self._message("Not found", "No such page."))
        if not hmac.compare_digest(request.field("csrf"), session.csrf):
            raise Response(
                HTTPStatus.FORBIDDEN,
                self._message("Refused", "The form was stale or not from this page: reload it."),
            )
        if request.path == "/reviewer":
            return self._name(session, request)
        return self._act(session, request)

    def _session(self, request: Request) -> BrowserSession:
        """The browser's session, or a new one when it brings the start token."""
        if request.cookie and request.cookie in self.sessions:
            return self.sessions[request.cookie]
        given = (request.query.get("token") or [""])[0]
        if request.method == "GET" and given and hmac.compare_digest(given, self.token):
            key = secrets.token_urlsafe(32)
            self.sessions[key] = BrowserSession()
            cookie = f"{COOKIE}={key}; Path=/; HttpOnly; SameSite=Strict"
            raise redirect("/", [("Set-Cookie", cookie)])
        raise Response(
            HTTPStatus.FORBIDDEN,
            self._message(
                "Token needed",
                "Open the link that `rapport review --serve` printed: it carries ?token=….",
            ),
        )

    def _name(self, session: BrowserSession, request: Request) -> Response:
        name = " ".join(request.field("reviewer").split())
        if not name or len(name) > MAX_NAME:
            session.notes[None] = ("error", f"Give your name (1 to {MAX_NAME} characters).")
        else:
            session.reviewer = name
        return redirect("/")

    def _act(self, session: BrowserSession, request: Request) -> Response:
        parts = request.path.strip("/").split("/")
        if len(parts) != 3 or parts[0] != "items" or not parts[1].isdigit():
            raise Response(HTTPStatus.NOT_FOUND, self._message("Not found", "No such action."))
        contact_id, action = int(parts[1]), parts[2]
        if session.reviewer is None:
            session.notes[None] = ("error", "Give your name first.")
            return redirect("/")
        reviewer = Reviewer(session.reviewer, self.settings, self.rules)
        now = clock.now()
        queue.expire_overdue(self.database, expires=self.settings.review.expires, now=now)
        try:
            return self._do(action, contact_id, reviewer, request, session, now)
        except RapportError as refused:  # a refused action, or a URL that is not a post
            if action in ("approve", "edit", "open"):
                session.drafts[contact_id] = request.field("text")
            session.notes[contact_id] = ("error", str(refused))
            return redirect(f"/#item-{contact_id}")

    def _do(
        self,
        action: str,
        contact_id: int,
        reviewer: Reviewer,
        request: Request,
        session: BrowserSession,
        now: datetime,
    ) -> Response:
        text = request.field("text").replace("\r\n", "\n")
        db = self.database
        if action in ("approve", "open"):
            given = text if "text" in request.form else None
            item = queue.approve(db, contact_id, reviewer=reviewer, now=now, text=given)
            session.drafts.pop(contact_id, None)
            session.notes[None] = ("ok", f"Approved message {contact_id} to @{item.handle}.")
            return redirect(item.intent_url if action == "open" else "/")
        if action == "edit":
            item = queue.edit(db, contact_id, text=text, reviewer=reviewer, now=now)
            session.drafts.pop(contact_id, None)
            note = f"Saved the edit ({item.weighted_length}/{MAX_WEIGHTED_LENGTH})."
            session.notes[contact_id] = ("ok", note)
            return redirect(f"/#item-{contact_id}")
        if action == "reject":
            stop = request.field("stop") == "on"
            reason = request.field("reason").strip() or None
            queue.reject(db, contact_id, reviewer=reviewer, now=now, reason=reason, stop=stop)
            said = " and ended its enrolment" if stop else ""
            session.notes[None] = ("ok", f"Rejected message {contact_id}{said}.")
            return redirect("/")
        if action == "sent":
            queue.mark_sent(db, contact_id, url=request.field("url"), reviewer=reviewer, now=now)
            session.notes[None] = ("ok", f"Marked message {contact_id} as sent.")
            return redirect("/")
        raise Response(HTTPStatus.NOT_FOUND, self._message("Not found", "No such action."))

    def _render(self, session: BrowserSession) -> str:
        now = clock.now()
        queue.expire_overdue(self.database, expires=self.settings.review.expires, now=now)
        with self.database.read() as db_session:
            pending = load_items(db_session, now=now)
            approved = load_items(db_session, states=(ContactState.APPROVED,), now=now)
        groups: dict[str, list[Any]] = {}
        for item in pending:
            groups.setdefault(item.cadence, []).append(item)
        notes, session.notes = session.notes, {}
        drafts = dict(session.drafts)
        return self.jinja.get_template("queue.html").render(
            groups=groups,
            approved=approved,
            now=now,
            session=session,
            notes=notes,
            drafts=drafts,
            limit=MAX_WEIGHTED_LENGTH,
            expires=format_duration(self.settings.review.expires),
            paused=sorted(pauses(self.database)),  # `rapport pause`: "*" is all sending
        )

    def _message(self, title: str, text: str) -> str:
        return self.jinja.get_template("message.html").render(title=title, text=text)


def _static(name: str) -> Response:
    if name not in STATIC:
        raise Response(HTTPStatus.NOT_FOUND, "not found", [("Content-Type", "text/plain")])
    body = (HERE / "static" / name).read_text(encoding="utf-8")
    return Response(HTTPStatus.OK, body, [("Content-Type", f"{STATIC[name]}; charset=utf-8")])


def _request(environ: dict[str, Any]) -> Request:
    method = environ.get("REQUEST_METHOD", "GET").upper()
    form: dict[str, list[str]] = {}
    if method == "POST":
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > MAX_BODY:
            raise Response(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "too large")
        body = environ["wsgi.input"].read(length).decode("utf-8", "replace")
        form = parse_qs(body, keep_blank_values=True)
    cookies = SimpleCookie()
    try:
        cookies.load(environ.get("HTTP_COOKIE", ""))
    except Exception:  # a malformed Cookie header: no session
        cookies = SimpleCookie()
    morsel = cookies.get(COOKIE)
    return Request(
        method=method,
        path=environ.get("PATH_INFO", "/") or "/",
        query=parse_qs(environ.get("QUERY_STRING", "")),
        form=form,
        cookie=morsel.value if morsel else None,
    )
