"""A stand-in for the X API v2 on loopback, for tests and for watching Rapport without X.

    python -m engine.x.stand_in --port 8799 --brand acme [--script FILE]

then set `channels.x.base_url: "http://127.0.0.1:8799"` in config.yaml and any token in
RAPPORT_X_TOKEN. It speaks the endpoints Rapport calls with real status codes and
rate-limit headers (`x-rate-limit-*` per endpoint per 15 minutes, `x-app-limit-24hour-*`
on posting), serves posts stamped with the real time, refuses identical text with 403
"duplicate content", and can be scripted to fail (429 with a reset, 500, 503, an answer
slower than the client's timeout, a connection dropped after the request was read).

Its own endpoints:
- `GET /_stand_in/received`: every request it received, oldest first (JSON).
- `POST /_stand_in/mentions` `{"author": "jane", "text": "@acme hi", "in_reply_to": ID,
  "quote_of": ID}`: a new post by that user, now (the brand sees it as a mention when it
  @mentions the brand).
- `POST /_stand_in/failures` `{"endpoint": "POST /2/tweets", "status": 503}`: script a failure.

A script FILE is JSON: `{"mentions": [{...}], "failures": [{...}]}`. A failure matches an
endpoint (default "POST /2/tweets") and applies `times` times (default 1): `status`
(429 adds `reset_in` seconds, default 60), `delay` (seconds before answering; the post is
still made), or `drop: true` (the request is read, then the connection closed unanswered;
`apply: true` makes the post anyway).
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from engine import clock
from engine.x.stand_in_world import World

WINDOW_SECONDS = 15 * 60
DAY_SECONDS = 24 * 3600
DUPLICATE = "You are not allowed to create a Tweet with duplicate content."
ROUTES = (
    ("GET", ("2", "users", "me"), "GET /2/users/me"),
    ("POST", ("2", "tweets"), "POST /2/tweets"),
    ("GET", ("2", "users", "*", "mentions"), "GET /2/users/:id/mentions"),
    ("GET", ("2", "users", "*", "tweets"), "GET /2/users/:id/tweets"),
    ("GET", ("2", "tweets", "search", "recent"), "GET /2/tweets/search/recent"),
    ("POST", ("2", "oauth2", "token"), "POST /2/oauth2/token"),
)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up on a slow answer is expected here, not a crash."""
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def _route(method: str, path: str) -> tuple[str, list[str]] | None:
    parts = [p for p in path.split("/") if p]
    for verb, shape, name in ROUTES:
        same_shape = verb == method and len(parts) == len(shape)
        if same_shape and all(s in ("*", p) for s, p in zip(shape, parts, strict=True)):
            return name, parts
    return None


class _Window:
    """A fixed rate-limit window: `limit` requests until `reset`, then a fresh window."""

    def __init__(self, limit: int, seconds: int) -> None:
        self.limit, self.seconds, self.used, self.reset = limit, seconds, 0, 0

    def take(self) -> bool:
        now = int(time.time())
        if now >= self.reset:
            self.used, self.reset = 0, now + self.seconds
        if self.used >= self.limit:
            return False
        self.used += 1
        return True

    def headers(self, prefix: str) -> dict[str, str]:
        return {
            f"{prefix}-limit": str(self.limit),
            f"{prefix}-remaining": str(max(0, self.limit - self.used)),
            f"{prefix}-reset": str(self.reset or int(time.time()) + self.seconds),
        }


class StandIn:
    """The server; a context manager on an ephemeral port for tests."""

    def __init__(
        self,
        *,
        brand: str = "acme",
        host: str = "127.0.0.1",
        port: int = 0,
        post_limit: int = 100,
        read_limit: int = 450,
        app_day_limit: int = 10_000,
        access_tokens: set[str] | None = None,
        refresh_tokens: set[str] | None = None,
        token_lifetime: int = 7200,
    ) -> None:
        self.world = World(brand)
        self.failures: list[dict[str, Any]] = []
        self.received: list[dict[str, Any]] = []
        self.access_tokens, self.refresh_tokens = access_tokens, refresh_tokens
        self.token_lifetime = token_lifetime
        self.on_request: Callable[[dict[str, Any]], None] | None = None
        self._limits = {"POST /2/tweets": post_limit}
        self._read_limit = read_limit
        self._windows: dict[str, _Window] = {}
        self._day = _Window(app_day_limit, DAY_SECONDS)
        self._lock = threading.Lock()
        self._issued = 0
        self.server = _Server((host, port), _handler(self))
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> StandIn:
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> StandIn:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # --- scripting, from tests or over HTTP --------------------------------------------

    def mention(self, author: str, text: str, **refs: str | None) -> dict[str, Any]:
        return self.world.add_post(author, text, **refs)

    def fail(self, endpoint: str = "POST /2/tweets", **how: Any) -> None:
        with self._lock:
            self.failures.append({"endpoint": endpoint, "times": 1, **how})

    def requests_to(self, endpoint: str) -> list[dict[str, Any]]:
        with self._lock:
            return [r for r in self.received if r["endpoint"] == endpoint]

    def load_script(self, path: Path) -> None:
        script = json.loads(path.read_text(encoding="utf-8"))
        for mention in script.get("mentions", []):
            self.mention(mention["author"], mention["text"])
        for failure in script.get("failures", []):
            self.fail(**failure)

    # --- answering ---------------------------------------------------------------------

    def _failure_for(self, endpoint: str) -> dict[str, Any] | None:
        with self._lock:
            for failure in self.failures:
                if failure["endpoint"] == endpoint and failure["times"] > 0:
                    failure["times"] -= 1
                    return dict(failure)
        return None

    def _window(self, endpoint: str) -> _Window:
        with self._lock:
            if endpoint not in self._windows:
                limit = self._limits.get(endpoint, self._read_limit)
                self._windows[endpoint] = _Window(limit, WINDOW_SECONDS)
            return self._windows[endpoint]

    def _record(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self.received.append(entry)

    def issue_tokens(self, refresh_token: str) -> dict[str, Any] | None:
        """Rotate: the used refresh token dies, a new pair is born (None: unknown token)."""
        with self._lock:
            if self.refresh_tokens is not None:
                if refresh_token not in self.refresh_tokens:
                    return None
                self.refresh_tokens.discard(refresh_token)
            self._issued += 1
            access, rotated = f"access-{self._issued}", f"refresh-{self._issued}"
            if self.refresh_tokens is not None:
                self.refresh_tokens.add(rotated)
            if self.access_tokens is not None:
                self.access_tokens.add(access)
        return {
            "token_type": "bearer",
            "expires_in": self.token_lifetime,
            "access_token": access,
            "refresh_token": rotated,
            "scope": "tweet.read tweet.write users.read offline.access",
        }


def _handler(stand_in: StandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(_Handler):
        owner = stand_in

    return Handler


class _Handler(BaseHTTPRequestHandler):
    owner: StandIn
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read `received`
        return

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def _serve(self, method: str) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if url.path.startswith("/_stand_in/"):
            self._own(method, url.path, raw)
            return
        found = _route(method, url.path)
        if found is None:
            self._answer(404, {"title": "Not Found", "detail": f"no route {method} {url.path}"})
            return
        endpoint, parts = found
        params = dict(parse_qsl(url.query))
        body = _parse(raw, self.headers.get("Content-Type", ""))
        entry = {
            "at": clock.now().isoformat(),
            "method": method,
            "path": url.path,
            "endpoint": endpoint,
            "query": params,
            "body": body,
        }
        self.owner._record(entry)
        if self.owner.on_request is not None:
            self.owner.on_request(entry)
        self._dispatch(endpoint, parts, params, body, self.owner._failure_for(endpoint))

    def _dispatch(
        self,
        endpoint: str,
        parts: list[str],
        params: dict[str, str],
        body: Any,
        failure: dict[str, Any] | None,
    ) -> None:
        if endpoint == "POST /2/oauth2/token":
            self._token(body)
            return
        if not self._authorised():
            self._answer(401, {"title": "Unauthorized", "status": 401, "detail": "Unauthorized"})
            return
        if failure is not None and failure.get("drop"):
            if failure.get("apply") and endpoint == "POST /2/tweets":
                self._apply_post(body)
            self.close_connection = True  # read, never answered
            return
        if failure is not None and failure.get("delay"):
            time.sleep(float(failure["delay"]))
        elif failure is not None and "status" in failure:
            self._fail(endpoint, failure)
            return
        window = self.owner._window(endpoint)
        if not window.take():
            self._answer(429, _problem(429, "Too Many Requests"), self._limit_headers(endpoint))
            return
        status, answer = self._answer_for(endpoint, parts, params, body)
        self._answer(status, answer, self._limit_headers(endpoint))

    def _answer_for(
        self, endpoint: str, parts: list[str], params: dict[str, str], body: Any
    ) -> tuple[int, dict[str, Any]]:
        world = self.owner.world
        if endpoint == "GET /2/users/me":
            return 200, {"data": world.users[world.brand_id]}
        if endpoint == "POST /2/tweets":
            return self._create(body)
        if endpoint == "GET /2/users/:id/mentions":
            return 200, world.page(world.mentions_of(parts[2]), params)
        if endpoint == "GET /2/users/:id/tweets":
            return 200, world.page(world.posts_by(parts[2]), params)
        return 200, world.page(world.search(params.get("query", "")), params)

    def _create(self, body: Any) -> tuple[int, dict[str, Any]]:
        if not isinstance(body, dict) or not isinstance(body.get("text"), str):
            return 400, _problem(400, "Invalid Request", "text is required")
        if body["text"] in self.owner.world.brand_texts():
            return 403, _problem(403, "Forbidden", DUPLICATE)
        if not self.owner._day.take():
            return 429, _problem(429, "Too Many Requests", "24-hour app limit reached")
        post = self._apply_post(body)
        return 201, {"data": {"id": post["id"], "text": post["text"]}}

    def _apply_post(self, body: dict[str, Any]) -> dict[str, Any]:
        world = self.owner.world
        reply = body.get("reply") or {}
        return world.add_post(
            world.brand, body["text"], in_reply_to=reply.get("in_reply_to_tweet_id")
        )

    def _fail(self, endpoint: str, failure: dict[str, Any]) -> None:
        status = int(failure["status"])
        headers = self._limit_headers(endpoint)
        if status == 429:
            reset = int(time.time()) + int(failure.get("reset_in", 60))
            headers.update({"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(reset)})
        detail = str(failure.get("detail", DUPLICATE if status == 403 else "scripted failure"))
        self._answer(status, _problem(status, failure.get("title", "Error"), detail), headers)

    def _limit_headers(self, endpoint: str) -> dict[str, str]:
        headers = self.owner._window(endpoint).headers("x-rate-limit")
        if endpoint == "POST /2/tweets":
            headers.update(self.owner._day.headers("x-app-limit-24hour"))
        return headers

    def _authorised(self) -> bool:
        given = self.headers.get("Authorization", "")
        if not given.startswith("Bearer ") or not given[len("Bearer ") :].strip():
            return False
        tokens = self.owner.access_tokens
        return tokens is None or given[len("Bearer ") :] in tokens

    def _token(self, body: Any) -> None:
        form = body if isinstance(body, dict) else {}
        if form.get("grant_type") != "refresh_token":
            self._answer(400, {"error": "invalid_request", "error_description": "grant_type"})
            return
        issued = self.owner.issue_tokens(str(form.get("refresh_token", "")))
        if issued is None:
            answer = {
                "error": "invalid_request",
                "error_description": "Value passed for the token was invalid.",
            }
            self._answer(400, answer)
            return
        self._answer(200, issued)

    def _own(self, method: str, path: str, raw: bytes) -> None:
        owner = self.owner
        if method == "GET" and path == "/_stand_in/received":
            with owner._lock:
                self._answer(200, {"received": list(owner.received)})
            return
        body = _parse(raw, "application/json")
        if method == "POST" and path == "/_stand_in/mentions" and isinstance(body, dict):
            refs = {k: body.get(k) for k in ("in_reply_to", "quote_of")}
            self._answer(201, {"data": owner.mention(body["author"], body["text"], **refs)})
        elif method == "POST" and path == "/_stand_in/failures" and isinstance(body, dict):
            owner.fail(**body)
            self._answer(201, {"failures": owner.failures})
        else:
            self._answer(404, _problem(404, "Not Found", f"no stand-in route {method} {path}"))

    def _answer(
        self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


def _problem(status: int, title: str, detail: str | None = None) -> dict[str, Any]:
    return {"title": title, "status": status, "detail": detail or title, "type": "about:blank"}


def _parse(raw: bytes, content_type: str) -> Any:
    if not raw:
        return None
    text = raw.decode("utf-8", "replace")
    if "x-www-form-urlencoded" in content_type:
        return dict(parse_qsl(text))
    try:
        return json.loads(text)
    except ValueError:
        return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m engine.x.stand_in",
        description="A stand-in X API on loopback. Point channels.x.base_url at it.",
        epilog="example: python -m engine.x.stand_in --port 8799 --brand acme; then "
        'curl -d \'{"author": "jane_doe", "text": "@acme hi"}\' '
        "http://127.0.0.1:8799/_stand_in/mentions",
    )
    parser.add_argument("--port", type=int, default=8799)
    parser.add_argument("--brand", default="acme", help="the brand's handle (default acme)")
    parser.add_argument("--script", type=Path, help="JSON with mentions and failures to start")
    args = parser.parse_args(argv)
    stand_in = StandIn(brand=args.brand, port=args.port)
    if args.script is not None:
        stand_in.load_script(args.script)
    print(f"stand-in X API for @{args.brand} on {stand_in.base_url} (Ctrl-C stops)", flush=True)
    try:
        stand_in.server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        stand_in.server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
