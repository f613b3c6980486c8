"""`rapport review --serve`: the review page on wsgiref, until Ctrl-C.

wsgiref serves one request at a time, which is what a page for one or a few reviewers on
one machine needs; every action is still one conditional UPDATE, so a CLI or a second
page acting at the same time can never make a message be approved twice.
"""

from __future__ import annotations

import ipaddress
import secrets
import socket
from typing import TYPE_CHECKING, Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import click

from engine.errors import RapportError
from engine.review.page import ReviewPage
from engine.review.queue import RuleFacts

if TYPE_CHECKING:
    from engine.cli.context import AppContext


class QuietHandler(WSGIRequestHandler):
    """No access log on the terminal that shows the start link."""

    def log_message(self, format: str, *args: Any) -> None:
        pass


class IPv6Server(WSGIServer):
    address_family = socket.AF_INET6


def parse_listen(listen: str) -> tuple[str, int]:
    host, _, port = listen.rpartition(":")
    if not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise RapportError(
            f"--listen {listen!r} is not an address", hint="use HOST:PORT, e.g. 127.0.0.1:8765"
        )
    return host.strip("[]"), int(port)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(ctx: AppContext, *, listen: str | None) -> None:
    settings = ctx.settings
    host, port = parse_listen(listen) if listen else (settings.review.host, settings.review.port)
    rules, warning = RuleFacts.load(settings)
    if warning:
        click.echo(f"warning: {warning}", err=True)
    token = secrets.token_urlsafe(32)
    page = ReviewPage(ctx.database, settings, rules, token=token)
    server_class = IPv6Server if ":" in host else WSGIServer
    try:
        server = make_server(
            host, port, page, server_class=server_class, handler_class=QuietHandler
        )
    except OSError as exc:
        raise RapportError(
            f"cannot listen on {host}:{port} ({exc.strerror})",
            hint="choose another port with --listen HOST:PORT or review.listen",
        ) from None
    bound = server.server_address[1]
    shown = f"[{host}]" if ":" in host else host
    if not is_loopback(host):
        click.echo(
            f"warning: listening on {host}, reachable from other machines: anyone with the"
            " link below can approve messages",
            err=True,
        )
    click.echo(f"Review page: http://{shown}:{bound}/?token={token}")
    click.echo("Open it in a browser on this machine; Ctrl-C stops the page.", nl=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("Stopped.")
    finally:
        server.server_close()
