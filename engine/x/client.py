"""A small, typed X API v2 client on httpx (sync): the five endpoints Rapport uses.

Errors say which endpoint failed and, for delivery, on which side of the wire: an error
before the request left (`XNotSent`: safe to retry), after it left with no answer
(`XNoAnswer`: X may have posted it, so the outbox records `unknown` and never resends), or
an answer with an error status (`XRefused`, with X's reason and rate-limit headers).
An answer that is not what X documents raises `XMalformed` naming the endpoint.

Credentials come from a token provider: a callable returning the access token, called with
`force_refresh=True` once after a 401 (engine/x/credentials.py refreshes and stores it).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import httpx

from engine.clock import as_utc
from engine.errors import RapportError
from engine.x.limits import RateLimits, read_limits

POST_FIELDS = "author_id,conversation_id,created_at,referenced_tweets,in_reply_to_user_id,entities"
EXPANSIONS = "author_id,referenced_tweets.id,referenced_tweets.id.author_id"
PAGE_SIZE = 100
MAX_PAGES = 10  # a poll reads at most 1,000 posts per endpoint; the cursor moves on anyway


class TokenProvider(Protocol):
    def __call__(self, force_refresh: bool = False) -> str: ...


@dataclass(frozen=True)
class StaticToken:
    """A token given as is (tests, the stand-in): refreshing gives the same token."""

    token: str

    def __call__(self, force_refresh: bool = False) -> str:
        return self.token


class XError(RapportError):
    def __init__(self, endpoint: str, message: str, *, hint: str | None = None) -> None:
        self.endpoint = endpoint
        super().__init__(f"{endpoint}: {message}", hint=hint)


class XNotSent(XError):
    """The request never reached X (no connection): nothing was posted."""


class XNoAnswer(XError):
    """The request went out but no answer came back: X may or may not have acted on it."""


class XMalformed(XError):
    """X answered, but not in the documented shape."""


class XRefused(XError):
    """X answered with an error status."""

    def __init__(self, endpoint: str, status: int, detail: str, limits: RateLimits) -> None:
        self.status, self.detail, self.limits = status, detail, limits
        super().__init__(endpoint, f"HTTP {status}: {detail}")

    @property
    def duplicate_content(self) -> bool:
        return self.status == 403 and "duplicate" in self.detail.lower()


@dataclass(frozen=True)
class XUser:
    id: str
    username: str
    name: str = ""


@dataclass(frozen=True)
class XPost:
    id: str
    text: str
    author_id: str
    author_username: str | None
    created_at: datetime | None
    conversation_id: str | None
    in_reply_to_user_id: str | None
    replied_to: str | None  # the post it replies to
    quoted: str | None  # the post it quotes
    quoted_author_id: str | None
    mentions: tuple[str, ...]  # usernames @mentioned, lower-case

    def url(self) -> str:
        return f"https://x.com/{self.author_username or 'i'}/status/{self.id}"


@dataclass(frozen=True)
class Timeline:
    posts: tuple[XPost, ...]  # newest first, as X sends them
    newest_id: str | None
    limits: RateLimits


@dataclass(frozen=True)
class Posted:
    id: str
    text: str
    limits: RateLimits


class XClient:
    def __init__(
        self, base_url: str, token_provider: TokenProvider, *, timeout: float = 10.0
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token_provider = token_provider
        self.timeout = timeout
        self.last_limits: dict[str, RateLimits] = {}
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> XClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # --- endpoints ---------------------------------------------------------------------

    def me(self) -> XUser:
        endpoint = "GET /2/users/me"
        body, _ = self._call("GET", "/2/users/me", endpoint)
        return _user(endpoint, _field(endpoint, body, "data", dict))

    def create_post(self, text: str, *, in_reply_to: str | None = None) -> Posted:
        """POST /2/tweets; a reply when `in_reply_to` is a post id."""
        endpoint = "POST /2/tweets"
        payload: dict[str, Any] = {"text": text}
        if in_reply_to is not None:
            payload["reply"] = {"in_reply_to_tweet_id": in_reply_to}
        body, limits = self._call("POST", "/2/tweets", endpoint, json=payload)
        data = _field(endpoint, body, "data", dict)
        return Posted(_field(endpoint, data, "id", str), str(data.get("text", text)), limits)

    def mentions(
        self, user_id: str, *, since_id: str | None = None, max_pages: int = MAX_PAGES
    ) -> Timeline:
        path = f"/2/users/{user_id}/mentions"
        return self._timeline(path, "GET /2/users/:id/mentions", since_id, max_pages, {})

    def search_recent(
        self, query: str, *, since_id: str | None = None, max_pages: int = MAX_PAGES
    ) -> Timeline:
        endpoint = "GET /2/tweets/search/recent"
        params = {"query": query}
        return self._timeline("/2/tweets/search/recent", endpoint, since_id, max_pages, params)

    def user_posts(
        self,
        user_id: str,
        *,
        since_id: str | None = None,
        start_time: datetime | None = None,
        max_pages: int = 3,
    ) -> Timeline:
        params = {}
        if start_time is not None:
            params["start_time"] = as_utc(start_time).strftime("%Y-%m-%dT%H:%M:%SZ")
        path = f"/2/users/{user_id}/tweets"
        return self._timeline(path, "GET /2/users/:id/tweets", since_id, max_pages, params)

    # --- plumbing ----------------------------------------------------------------------

    def _timeline(
        self,
        path: str,
        endpoint: str,
        since_id: str | None,
        max_pages: int,
        extra: dict[str, str],
    ) -> Timeline:
        posts: list[XPost] = []
        newest: str | None = None
        limits = RateLimits()
        for body, page_limits in self._pages(path, endpoint, since_id, max_pages, extra):
            limits = page_limits  # the last page's: the freshest count
            meta = body.get("meta", {})
            if not isinstance(meta, dict):
                raise XMalformed(endpoint, "'meta' is not an object")
            if newest is None and isinstance(meta.get("newest_id"), str):
                newest = meta["newest_id"]
            posts.extend(_posts(endpoint, body))
        if newest is None and posts:
            newest = max(posts, key=lambda p: (len(p.id), p.id)).id
        return Timeline(tuple(posts), newest, limits)

    def _pages(
        self,
        path: str,
        endpoint: str,
        since_id: str | None,
        max_pages: int,
        extra: dict[str, str],
    ) -> Iterator[tuple[dict[str, Any], RateLimits]]:
        params = {
            **extra,
            "max_results": str(PAGE_SIZE),
            "tweet.fields": POST_FIELDS,
            "expansions": EXPANSIONS,
            "user.fields": "username,name",
        }
        if since_id:
            params["since_id"] = since_id
        for _ in range(max_pages):
            body, limits = self._call("GET", path, endpoint, params=params)
            yield body, limits
            token = body.get("meta", {}).get("next_token") if isinstance(body, dict) else None
            if not isinstance(token, str) or not token:
                return
            params = {**params, "pagination_token": token}

    def _call(
        self,
        method: str,
        path: str,
        endpoint: str,
        *,
        params: dict[str, str] | None = None,
        json: dict[str, Any] | None = None,
    ) -> tuple[dict[str, Any], RateLimits]:
        response = self._send(method, path, endpoint, params, json, force_refresh=False)
        if response.status_code == 401:  # an expired or revoked token: refresh once
            response = self._send(method, path, endpoint, params, json, force_refresh=True)
        limits = read_limits(response.headers)
        self.last_limits[endpoint] = limits
        body = _json(endpoint, response)
        if response.status_code >= 400:
            raise XRefused(endpoint, response.status_code, _detail(body, response), limits)
        return body, limits

    def _send(
        self,
        method: str,
        path: str,
        endpoint: str,
        params: dict[str, str] | None,
        json: dict[str, Any] | None,
        *,
        force_refresh: bool,
    ) -> httpx.Response:
        token = self.token_provider(force_refresh=force_refresh)
        headers = {"Authorization": f"Bearer {token}", "User-Agent": "rapport"}
        try:
            return self._http.request(method, path, params=params, json=json, headers=headers)
        except (
            httpx.ConnectError,
            httpx.ConnectTimeout,
            httpx.PoolTimeout,
            httpx.UnsupportedProtocol,  # a base_url that is not http(s): nothing left
        ) as exc:
            raise XNotSent(endpoint, f"cannot reach {self.base_url} ({_why(exc)})") from None
        except httpx.TransportError as exc:  # read/write timeouts, a dropped connection
            raise XNoAnswer(
                endpoint, f"no answer from {self.base_url} after the request ({_why(exc)})"
            ) from None


def _why(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _json(endpoint: str, response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        if response.status_code >= 400:
            return {}  # an error page from a proxy: the status says enough
        raise XMalformed(
            endpoint, f"HTTP {response.status_code} answer is not JSON: {response.text[:80]!r}"
        ) from None
    if not isinstance(body, dict):
        raise XMalformed(endpoint, "the answer is not a JSON object")
    return body


def _detail(body: dict[str, Any], response: httpx.Response) -> str:
    for key in ("detail", "title", "error_description", "error"):
        if isinstance(body.get(key), str):
            return str(body[key])
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return str(errors[0].get("message") or errors[0].get("detail") or errors[0])
    return response.reason_phrase or "error"


def _field(endpoint: str, body: dict[str, Any], key: str, kind: type) -> Any:
    value = body.get(key)
    if not isinstance(value, kind):
        raise XMalformed(endpoint, f"'{key}' is missing or not a {kind.__name__}")
    return value


def _user(endpoint: str, data: dict[str, Any]) -> XUser:
    return XUser(
        _field(endpoint, data, "id", str),
        _field(endpoint, data, "username", str),
        str(data.get("name", "")),
    )


def _time(endpoint: str, value: Any) -> datetime | None:
    if value is None:
        return None
    try:
        return as_utc(datetime.fromisoformat(str(value).replace("Z", "+00:00")))
    except ValueError:
        raise XMalformed(endpoint, f"created_at {value!r} is not an ISO 8601 time") from None


def _posts(endpoint: str, body: dict[str, Any]) -> Iterator[XPost]:
    data = body.get("data", [])
    includes = body.get("includes", {})
    if not isinstance(data, list) or not isinstance(includes, dict):
        raise XMalformed(endpoint, "'data' is not a list of posts")
    users = {u.get("id"): u for u in includes.get("users", []) if isinstance(u, dict)}
    authors = {
        t.get("id"): t.get("author_id") for t in includes.get("tweets", []) if isinstance(t, dict)
    }
    for raw in data:
        if not isinstance(raw, dict):
            raise XMalformed(endpoint, "a post in 'data' is not an object")
        yield _post(endpoint, raw, users, authors)


def _post(
    endpoint: str,
    raw: dict[str, Any],
    users: dict[Any, dict[str, Any]],
    authors: dict[Any, Any],
) -> XPost:
    post_id, text = _field(endpoint, raw, "id", str), _field(endpoint, raw, "text", str)
    author = _field(endpoint, raw, "author_id", str)
    refs = {r.get("type"): str(r.get("id")) for r in raw.get("referenced_tweets", []) or []}
    entities = raw.get("entities") or {}
    mentioned = tuple(
        str(m.get("username", "")).lower() for m in entities.get("mentions", []) or []
    )
    quoted = refs.get("quoted")
    return XPost(
        id=post_id,
        text=text,
        author_id=author,
        author_username=users.get(author, {}).get("username"),
        created_at=_time(endpoint, raw.get("created_at")),
        conversation_id=raw.get("conversation_id"),
        in_reply_to_user_id=raw.get("in_reply_to_user_id"),
        replied_to=refs.get("replied_to"),
        quoted=quoted,
        quoted_author_id=authors.get(quoted) if quoted else None,
        mentions=mentioned,
    )
