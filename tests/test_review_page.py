"""The review page in a real headless Chromium (Debian's package, driven by Playwright):
the start token, the reviewer's name, approve, edit with the live counter, reject, Open in
X, CSRF, and customer-written HTML shown as text. Screenshots go to the temp folder."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import ROOT
from playwright.sync_api import Browser, Page, expect, sync_playwright
from review_helpers import (
    EVIL_NAME,
    HTML_POST,
    POST_ID,
    Queue,
    Standard,
    standard_queue,
    write_config,
)

from engine import clock
from engine.history.db import Database
from engine.ledger.states import ContactState
from engine.ops.pause import pause

pytestmark = pytest.mark.backends

CHROMIUM = os.environ.get("RAPPORT_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    # no name is ever resolved but loopback's: Open in X must not reach the network
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the review page's browser tests need Debian's chromium."
            " Install it with `sudo apt-get install chromium` (make test does it as root),"
            " or set RAPPORT_CHROMIUM to a Chromium binary."
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield launched
        finally:
            launched.close()


DIALOGS: list[str] = []  # alert()s any page opened: must stay empty


class Served:
    def __init__(self, url: str, ids: Standard, queue: Queue) -> None:
        self.url, self.ids, self.queue = url, ids, queue
        parts = urlsplit(url)
        self.base = f"{parts.scheme}://{parts.netloc}"

    def state(self, contact_id: int) -> ContactState:
        return ContactState(self.queue.contact(contact_id).state)


@pytest.fixture
def served(db: Database, db_url: str, tmp_path: Path) -> Iterator[Served]:
    write_config(tmp_path)
    queue = Queue(db)
    ids = standard_queue(queue)
    env = {
        **os.environ,
        "RAPPORT_DATABASE_URL": db_url,
        "PYTHONPATH": str(ROOT),
        "PYTHONUNBUFFERED": "1",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "engine", "review", "--serve", "--listen", "127.0.0.1:0"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith("Review page: http://127.0.0.1:"), first + process.stderr.read()
        yield Served(first.removeprefix("Review page: ").strip(), ids, queue)
    finally:
        process.terminate()
        process.wait(timeout=30)


def _post(url: str, data: bytes, headers: dict[str, str] | None = None) -> int:
    request = urllib.request.Request(url, data=data, headers=headers or {}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def _start(browser: Browser, served: Served, width: int = 1280) -> Page:
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.on("dialog", lambda dialog: (DIALOGS.append(dialog.message), dialog.dismiss()))
    page.goto(served.url)
    return page


def _sign_in(page: Page, name: str = "Alice") -> None:
    page.fill("#reviewer", name)
    page.click("text=Start reviewing")


def test_without_the_token_or_the_csrf_token_nothing_changes(
    browser: Browser, served: Served
) -> None:
    ids = served.ids
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(served.base + "/", timeout=30)
    assert refused.value.code == 403
    assert "Open the link that `rapport review --serve` printed" in refused.value.read().decode()
    assert _post(f"{served.base}/items/{ids.jane}/approve", b"csrf=x&text=hi") == 403
    page = _start(browser, served)
    _sign_in(page)
    wrong = page.request.post(
        f"{served.base}/items/{ids.jane}/approve", form={"csrf": "not-the-token"}
    )
    assert wrong.status == 403 and "stale or not from this page" in wrong.text()
    missing = page.request.post(f"{served.base}/items/{ids.ann}/reject", form={})
    assert missing.status == 403
    assert served.state(ids.jane) == served.state(ids.ann) == ContactState.PENDING_REVIEW
    page.context.close()


def test_a_reviewer_clears_the_queue(browser: Browser, served: Served) -> None:
    ids = served.ids
    page = _start(browser, served)
    assert page.url == served.base + "/"  # the token left the address bar
    _sign_in(page)
    assert page.inner_text(".reviewer") == "Reviewing as Alice"
    # grouped by cadence, with the customer's context; customer-written HTML is text
    assert page.locator("section.cadence h2").all_inner_texts()[:3] == [
        "check-in 1 pending",
        "prospects 1 pending",
        "thanks 1 pending",
    ]
    bob = page.locator(f"#item-{ids.bob}")
    assert bob.locator(".name").inner_text() == EVIL_NAME
    assert bob.locator(".trigger-text").inner_text() == HTML_POST
    assert bob.locator(".trigger-text b, .trigger-text img, script:not([src])").count() == 0
    assert f"answers post {POST_ID}" in bob.locator(".why").inner_text()
    screenshots(page)

    # approve
    page.click(f"#item-{ids.jane} button.approve")
    expect(page.locator(".note.ok")).to_have_text(f"Approved message {ids.jane} to @jane_doe.")
    row = served.queue.contact(ids.jane)
    assert (row.state, row.reviewed_by) == (ContactState.APPROVED, "Alice")

    # edit: the counter follows the typing; an over-long text is refused with its message
    area = f"#text-{ids.ann}"
    page.fill(area, "@ann_lee " + "x" * 300)
    assert page.inner_text(f"#count-{ids.ann}") == "309"
    assert "over" in page.get_attribute(f"#count-{ids.ann} >> xpath=..", "class")
    page.click(f"#item-{ids.ann} button.edit")
    refusal = page.inner_text(f"#item-{ids.ann} .note.error")
    assert refusal.startswith(
        f"message {ids.ann}: the text is 309 weighted characters, over X's 280"
    )
    assert page.input_value(area).endswith("x" * 300)  # the draft is kept to fix
    assert served.queue.contact(ids.ann).text == "@ann_lee how is it going?"
    screenshots(page, "refused")
    page.fill(area, "@ann_lee how is the grinder? 🎉")
    assert page.inner_text(f"#count-{ids.ann}") == "31"
    page.click(f"#item-{ids.ann} button.edit")
    expect(page.locator(f"#item-{ids.ann} .note.ok")).to_have_text("Saved the edit (31/280).")
    assert served.queue.contact(ids.ann).text == "@ann_lee how is the grinder? 🎉"

    # Open in X approves the text as shown and opens the intent with it
    edited = "@bob glad you like it & thanks #coffee + tea?"
    page.fill(f"#text-{ids.bob}", edited)
    to_x = page.context.expect_event(
        "request", predicate=lambda request: request.url.startswith("https://x.com/")
    )
    with to_x as asked, page.expect_popup():
        page.click(f"#item-{ids.bob} button.open-x")
    link = urlsplit(asked.value.url)
    assert (link.netloc, link.path) == ("x.com", "/intent/post")
    assert parse_qs(link.query) == {"text": [edited], "in_reply_to": [POST_ID]}
    assert served.state(ids.bob) == ContactState.APPROVED

    # reject
    page.reload()
    page.fill(f"#item-{ids.ann} input[name=reason]", "not now")
    page.click(f"#item-{ids.ann} button.reject")
    expect(page.locator(".note.ok")).to_have_text(f"Rejected message {ids.ann}.")
    row = served.queue.contact(ids.ann)
    assert (row.state, row.reason, row.reviewed_by) == (
        ContactState.REJECTED,
        "rejected: not now",
        "Alice",
    )
    assert page.inner_text("main .empty") == "Nothing is waiting for review."
    # the approved ones wait to be posted, each with its intent link
    hrefs = page.locator("a.open-link").evaluate_all("links => links.map(a => a.href)")
    assert [parse_qs(urlsplit(h).query)["text"][0] for h in hrefs] == [
        edited,
        "@jane_doe thank you for your first order!",
    ]  # by cadence: prospects, thanks
    # a person posted Jane's: the post's URL marks it sent
    page.fill(f"#item-{ids.jane} input[name=url]", "https://x.com/acme")
    page.click(f"#item-{ids.jane} form.sent button")
    expect(page.locator(f"#item-{ids.jane} .note.error")).to_have_text(
        "'https://x.com/acme' is not the URL of an X post"
        " (copy it from the post, e.g. https://x.com/acme/status/1790000000000000000)"
    )
    page.fill(f"#item-{ids.jane} input[name=url]", f"https://x.com/acme/status/{POST_ID[:-1]}9")
    page.click(f"#item-{ids.jane} form.sent button")
    expect(page.locator(".note.ok")).to_have_text(f"Marked message {ids.jane} as sent.")
    row = served.queue.contact(ids.jane)
    assert (row.state, row.remote_id) == (ContactState.SENT, f"{POST_ID[:-1]}9")
    assert DIALOGS == []  # no alert() ran
    page.context.close()


def screenshots(page: Page, moment: str = "queue") -> None:
    """The page at a desk's width and a phone's, for a person to look at."""
    folder = Path(tempfile.gettempdir())
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        path = folder / f"rapport-review-{moment}-{width}.png"
        page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_the_page_says_when_sending_is_paused(
    browser: Browser, served: Served, db: Database
) -> None:
    page = _start(browser, served)
    assert "Sending is paused" not in page.content()
    pause(db, cadence=None, now=clock.now())
    page.reload()
    assert page.locator("p.note.error", has_text="Sending is paused").count() == 1
    page.context.close()
