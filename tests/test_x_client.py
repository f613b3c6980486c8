"""The X client and the stand-in: tokens, refresh with rotation, malformed answers."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from x_helpers import settings_for

from engine import clock
from engine.errors import RapportError
from engine.history.db import Database
from engine.history.models import XCredentials
from engine.x.client import StaticToken, XClient, XMalformed, XRefused
from engine.x.credentials import StoredToken
from engine.x.stand_in import StandIn

ROOT = Path(__file__).resolve().parent.parent


def test_a_refresh_token_is_traded_and_the_rotated_one_is_stored(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAPPORT_X_REFRESH", "refresh-0")
    monkeypatch.setenv("RAPPORT_X_CLIENT_ID", "app-1")
    with StandIn(access_tokens=set(), refresh_tokens={"refresh-0"}, token_lifetime=600) as x:
        channel = settings_for(
            x.base_url, refresh_env="RAPPORT_X_REFRESH", client_id_env="RAPPORT_X_CLIENT_ID"
        ).x
        now = clock.now()
        tokens = StoredToken(db, channel, now=lambda: now)
        with XClient(x.base_url, tokens) as client:
            assert client.me().username == "acme"
        [refresh] = x.requests_to("POST /2/oauth2/token")
        assert refresh["body"] == {
            "grant_type": "refresh_token",
            "refresh_token": "refresh-0",
            "client_id": "app-1",
        }
        with db.read() as session:
            row = session.get(XCredentials, "brand")
            assert row is not None and row.refresh_token == "refresh-1"
            assert row.access_token == "access-1"
            assert row.access_expires_at == now + timedelta(seconds=600)
        # A restart reads the stored pair: no refresh while the token is fresh...
        later = now + timedelta(seconds=500)
        assert StoredToken(db, channel, now=lambda: later)() == "access-1"
        assert len(x.requests_to("POST /2/oauth2/token")) == 1
        # ...and a refresh with the ROTATED token (the environment's one is dead) near expiry.
        nearly = now + timedelta(seconds=580)
        assert StoredToken(db, channel, now=lambda: nearly)() == "access-2"
        assert x.requests_to("POST /2/oauth2/token")[-1]["body"]["refresh_token"] == "refresh-1"
        with db.read() as session:
            row = session.get(XCredentials, "brand")
            assert row is not None and row.refresh_token == "refresh-2"


def test_a_401_refreshes_once_and_retries(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAPPORT_X_REFRESH", "refresh-0")
    with StandIn(access_tokens=set(), refresh_tokens={"refresh-0"}) as x:
        channel = settings_for(x.base_url, refresh_env="RAPPORT_X_REFRESH").x
        tokens = StoredToken(db, channel)
        with XClient(x.base_url, tokens) as client:
            client.me()
            x.access_tokens.clear()  # X revoked it
            assert client.me().username == "acme"
        assert len(x.requests_to("POST /2/oauth2/token")) == 2


def test_a_dead_refresh_token_is_a_clear_error(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAPPORT_X_REFRESH", "stale")
    with StandIn(refresh_tokens={"other"}) as x:
        tokens = StoredToken(db, settings_for(x.base_url, refresh_env="RAPPORT_X_REFRESH").x)
        with pytest.raises(RapportError) as caught:
            tokens()
    assert str(caught.value) == (
        "POST /2/oauth2/token: X refused to refresh the token (HTTP 400: Value passed for the"
        " token was invalid.) (authorise the app again and put a new refresh token in"
        " RAPPORT_X_REFRESH)"
    )


def test_a_missing_token_variable_names_the_variable(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RAPPORT_X_TOKEN", raising=False)
    tokens = StoredToken(db, settings_for("http://127.0.0.1:9").x)
    with pytest.raises(RapportError) as caught:
        tokens()
    assert str(caught.value) == (
        "the environment variable RAPPORT_X_TOKEN is empty or not set"
        " (put the brand account's OAuth 2.0 access token there (see docs/x.md))"
    )


ODD_ANSWERS = {
    "/2/users/me": b'{"data": {"name": "no id"}}',
    "/2/users/1/mentions": b'{"data": [{"id": "5"}]}',
    "/2/tweets/search/recent": b"<html>not json</html>",
}


class _Odd(BaseHTTPRequestHandler):
    """An X that answers 200 with the wrong shapes."""

    def log_message(self, *args: object) -> None:
        return

    def do_GET(self) -> None:
        body = ODD_ANSWERS[self.path.split("?")[0]]
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def odd_x() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Odd)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_malformed_answers_name_the_endpoint(odd_x: str) -> None:
    with XClient(odd_x, StaticToken("t")) as client:
        with pytest.raises(XMalformed, match=r"^GET /2/users/me: 'id' is missing or not a str$"):
            client.me()
        with pytest.raises(XMalformed, match=r"^GET /2/users/:id/mentions: 'text' is missing"):
            client.mentions("1")
        with pytest.raises(XMalformed, match=r"^GET /2/tweets/search/recent: HTTP 200 answer"):
            client.search_recent("acme")


def test_an_unknown_bearer_token_is_refused_with_401() -> None:
    with (
        StandIn(access_tokens={"good"}) as x,
        XClient(x.base_url, StaticToken("bad")) as client,
        pytest.raises(XRefused) as caught,
    ):
        client.me()
    assert caught.value.status == 401


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_stand_in_runs_by_hand_and_takes_mentions_over_http(tmp_path: Path) -> None:
    port = _free_port()
    script = tmp_path / "script.json"
    script.write_text(json.dumps({"mentions": [{"author": "jane_doe", "text": "@acme hi"}]}))
    process = subprocess.Popen(
        [sys.executable, "-m", "engine.x.stand_in", "--port", str(port), "--script", str(script)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().startswith(
            f"stand-in X API for @acme on http://127.0.0.1:{port}"
        )
        base = f"http://127.0.0.1:{port}"
        request = urllib.request.Request(
            f"{base}/_stand_in/mentions",
            data=json.dumps({"author": "kenji", "text": "@acme hello"}).encode(),
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=5) as answer:
            assert answer.status == 201
        with XClient(base, StaticToken("any")) as client:
            texts = [p.text for p in client.mentions(client.me().id).posts]
        assert texts == ["@acme hello", "@acme hi"]
        with urllib.request.urlopen(f"{base}/_stand_in/received", timeout=5) as answer:
            received = json.load(answer)["received"]
        assert [r["endpoint"] for r in received] == ["GET /2/users/me", "GET /2/users/:id/mentions"]
    finally:
        process.terminate()
        process.wait(timeout=10)
