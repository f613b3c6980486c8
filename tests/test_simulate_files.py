"""simulate --chart and --html: valid, non-empty files; the page needs no network."""

from __future__ import annotations

import re
import struct
from html.parser import HTMLParser
from pathlib import Path

from conftest import RunCli
from evaluation_helpers import World, at, cadence, write_project

from engine.history.db import Database

STEPS = "- name: hello\n  template: t.j2\n- name: later\n  after: 2d\n  template: t.j2\n"
CONFIG = 'timezone: UTC\npolicy: {quiet_hours: "22:00-07:00", caps: [{max: 1, per: 1d}]}\n'
PNG = b"\x89PNG\r\n\x1a\n"


class Page(HTMLParser):
    """Every URL-carrying attribute, and the tags still open at the end."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [v or "" for k, v in attrs if k in ("src", "href", "srcset", "action")]
        if tag not in ("meta", "img", "br", "link"):
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open[-1] == tag, f"</{tag}> closes <{self.open[-1:]}>"
        self.open.pop()


def _png_size(data: bytes) -> tuple[int, int]:
    assert data.startswith(PNG)
    width, height = struct.unpack(">II", data[16:24])  # the IHDR chunk
    return width, height


def test_chart_and_page_are_valid_self_contained_and_go_past_the_last_event(
    db: Database, tmp_path: Path, run_cli: RunCli
) -> None:
    rules = {
        "buyers": cadence("buyers", "event: purchase", STEPS),
        "late": cadence("late", "when: count(purchase) >= 2", "- name: hi\n  template: t.j2\n"),
    }
    world = World(db, write_project(tmp_path / "p", rules, config=CONFIG))
    for n in range(4):
        customer = world.customer(f"c{n}")
        world.event(customer, "purchase", at(n + 0.1), amount=10)
        world.event(customer, "purchase", at(n + 0.2), amount=10)
    chart, page = tmp_path / "sim.png", tmp_path / "sim.html"
    # The last event is at day 3.2; the window goes on to day 10: a forecast.
    code, out, err = run_cli(
        "simulate", "--start", "2026-03-02T12:00:00Z", "--end", "2026-03-12T12:00:00Z",
        "--chart", str(chart), "--html", str(page), "--format", "json", "--out",
        str(tmp_path / "sim.json"), cwd=tmp_path / "p",
    )  # fmt: skip
    assert code == 0, err
    assert f"wrote {chart}" in out and f"wrote {page}" in out
    width, height = _png_size(chart.read_bytes())
    assert width > 600 and height > 300
    text = page.read_text(encoding="utf-8")
    parser = Page()
    parser.feed(text)
    parser.close()
    assert parser.open == []
    assert parser.urls and all(url.startswith("data:image/png;base64,") for url in parser.urls)
    without_images = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", text)
    assert not re.search(r"(https?:)?//[a-z0-9]", without_images)
    assert "<script" not in text and "@import" not in text and "url(" not in text
    assert "the replay is a forecast" in text
    assert "<td>buyers</td><td>later</td>" in text
    assert "Messages by cadence and step, per week" in text


def test_a_chart_in_a_missing_folder_is_refused_before_the_replay(
    db: Database, tmp_path: Path, run_cli: RunCli
) -> None:
    write_project(tmp_path / "p", {"c": cadence("c", "event: purchase", STEPS)})
    code, _, err = run_cli(
        "simulate", "--start", "2026-03-02", "--end", "2026-03-03", "--chart", "nowhere/x.png",
        cwd=tmp_path / "p",
    )  # fmt: skip
    assert code == 1
    assert err.strip() == (
        "error: --chart nowhere/x.png: nowhere is not a folder (create it or choose another path)"
    )
