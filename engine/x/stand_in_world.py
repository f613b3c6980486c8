"""What the stand-in X API knows: users, posts with fresh timestamps, and the timelines and
searches over them, shaped like X API v2 answers. No HTTP here (engine/x/stand_in.py).

Post ids are snowflake-like: they grow with time, so `since_id` works as on X.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

TWITTER_EPOCH_MS = 1_288_834_974_657
MENTION = re.compile(r"(?<![\w@])@([A-Za-z0-9_]{1,15})")
QUERY_TERM = re.compile(r'"([^"]+)"|(\S+)')


def _stamp(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{ms % 1000:03d}Z"
    )


def query_terms(query: str) -> list[str]:
    """The words and "phrases" of a search query, without operators (-from:x, OR, is:…)."""
    terms = []
    for phrase, word in QUERY_TERM.findall(query.replace("(", " ").replace(")", " ")):
        if phrase:
            terms.append(phrase.lower())
        elif word != "OR" and not word.startswith("-") and ":" not in word:
            terms.append(word.lower())
    return terms


def _contains(text: str, term: str) -> bool:
    return re.search(r"(?<!\w)" + re.escape(term) + r"(?!\w)", text, re.IGNORECASE) is not None


@dataclass
class World:
    brand: str = "acme"
    users: dict[str, dict[str, str]] = field(default_factory=dict)  # id -> user
    posts: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> post
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _last_id: int = 0

    def __post_init__(self) -> None:
        self.brand_id = self.user(self.brand, "Acme")["id"]

    def _next_id(self) -> int:
        ms = int(time.time() * 1000)
        candidate = (ms - TWITTER_EPOCH_MS) << 22
        self._last_id = max(candidate, self._last_id + 1)
        return self._last_id

    def user(self, username: str, name: str | None = None) -> dict[str, str]:
        """The user with this handle, created on first sight."""
        username = username.lstrip("@")
        with self._lock:
            for found in self.users.values():
                if found["username"].lower() == username.lower():
                    return found
            user = {"id": str(1000 + len(self.users)), "username": username}
            user["name"] = name or username
            self.users[user["id"]] = user
            return user

    def add_post(
        self,
        author: str,
        text: str,
        *,
        in_reply_to: str | None = None,
        quote_of: str | None = None,
    ) -> dict[str, Any]:
        """A new post by `author` (a handle), created now."""
        user = self.user(author)
        with self._lock:
            post_id = self._next_id()
            post: dict[str, Any] = {
                "id": str(post_id),
                "text": text,
                "author_id": user["id"],
                "created_at": _stamp((post_id >> 22) + TWITTER_EPOCH_MS),
                "conversation_id": str(post_id),
            }
            refs = []
            target = self.posts.get(in_reply_to) if in_reply_to else None
            if target is not None:  # X puts the author replied to in front of a reply
                replied = self.users[target["author_id"]]["username"]
                if f"@{replied}".lower() not in text.lower():
                    text = post["text"] = f"@{replied} {text}"
            if in_reply_to:
                refs.append({"type": "replied_to", "id": in_reply_to})
                post["conversation_id"] = (target or {}).get("conversation_id", in_reply_to)
                if target is not None:
                    post["in_reply_to_user_id"] = target["author_id"]
            if quote_of:
                refs.append({"type": "quoted", "id": quote_of})
            if refs:
                post["referenced_tweets"] = refs
            handles = MENTION.findall(text)
            if handles:
                post["entities"] = {"mentions": [{"username": h} for h in handles]}
            self.posts[post["id"]] = post
            return post

    def brand_texts(self) -> set[str]:
        with self._lock:
            return {p["text"] for p in self.posts.values() if p["author_id"] == self.brand_id}

    def mentions_of(self, user_id: str) -> list[dict[str, Any]]:
        """Posts that @mention the user, and quotes of the user's posts (the stand-in serves
        both in the mentions timeline, as the account's notifications show them)."""
        user = self.users.get(user_id, {})
        handle = user.get("username", "").lower()
        own = {p["id"] for p in self.posts.values() if p["author_id"] == user_id}

        def addresses(post: dict[str, Any]) -> bool:
            mentioned = post.get("entities", {}).get("mentions", [])
            quoted = {r["id"] for r in post.get("referenced_tweets", []) if r["type"] == "quoted"}
            return any(m["username"].lower() == handle for m in mentioned) or bool(quoted & own)

        return self._select(lambda p: p["author_id"] != user_id and addresses(p))

    def search(self, query: str) -> list[dict[str, Any]]:
        terms = query_terms(query)
        excluded = {w[len("-from:") :].lower() for w in query.split() if w.startswith("-from:")}
        authors = {u["id"] for u in self.users.values() if u["username"].lower() in excluded}
        return self._select(
            lambda p: p["author_id"] not in authors and any(_contains(p["text"], t) for t in terms)
        )

    def posts_by(self, user_id: str) -> list[dict[str, Any]]:
        return self._select(lambda p: p["author_id"] == user_id)

    def _select(self, keep: Any) -> list[dict[str, Any]]:
        with self._lock:
            found = [p for p in self.posts.values() if keep(p)]
        return sorted(found, key=lambda p: int(p["id"]), reverse=True)

    def page(self, posts: list[dict[str, Any]], params: dict[str, str]) -> dict[str, Any]:
        """One page of a timeline, as X answers: data, includes, meta (newest first)."""
        since = int(params.get("since_id", "0") or 0)
        start = params.get("start_time")
        posts = [p for p in posts if int(p["id"]) > since]
        if start:
            posts = [p for p in posts if p["created_at"] >= start.replace("Z", ".000Z")]
        offset = int(params.get("pagination_token", "0") or 0)
        size = max(5, min(100, int(params.get("max_results", "10"))))
        chunk = posts[offset : offset + size]
        meta: dict[str, Any] = {"result_count": len(chunk)}
        if chunk:
            meta["newest_id"], meta["oldest_id"] = chunk[0]["id"], chunk[-1]["id"]
        if offset + size < len(posts):
            meta["next_token"] = str(offset + size)
        body: dict[str, Any] = {"meta": meta}
        if chunk:
            body["data"] = chunk
            body["includes"] = self._includes(chunk)
        return body

    def _includes(self, chunk: list[dict[str, Any]]) -> dict[str, Any]:
        with self._lock:
            referenced = [
                self.posts[r["id"]]
                for p in chunk
                for r in p.get("referenced_tweets", [])
                if r["id"] in self.posts
            ]
            author_ids = {p["author_id"] for p in chunk + referenced}
            users = [self.users[a] for a in sorted(author_ids) if a in self.users]
        includes: dict[str, Any] = {"users": users}
        if referenced:
            includes["tweets"] = referenced
        return includes
