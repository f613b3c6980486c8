"""One line per event, whatever the message holds: the text and JSON formats."""

from __future__ import annotations

import json
import logging

from engine.daemon.logs import JsonFormatter, TextFormatter


def record(message: str, **extra: object) -> logging.LogRecord:
    made = logging.LogRecord("rapport.daemon", logging.WARNING, __file__, 1, message, (), None)
    made.created = 1764590400.5  # 2025-12-01T12:00:00.500Z
    for key, value in extra.items():
        setattr(made, key, value)
    return made


def test_text_lines_quote_values_with_spaces_and_fold_newlines() -> None:
    line = TextFormatter().format(
        record(
            "rules/a.yaml:3:7: bad\nsecond line",
            event="reload_refused",
            fields={"rules_hash": "abc", "reason": "two words", "empty": ""},
        )
    )
    assert line == (
        "2025-12-01T12:00:00.500Z WARNING reload_refused rules/a.yaml:3:7: bad | second line"
        ' rules_hash=abc reason="two words" empty=""'
    )


def test_json_lines_carry_time_level_event_message_and_fields() -> None:
    line = JsonFormatter().format(record("hi\nthere", event="tick_done", fields={"planned": 2}))
    assert json.loads(line) == {
        "time": "2025-12-01T12:00:00.500Z",
        "level": "warning",
        "event": "tick_done",
        "message": "hi | there",
        "planned": 2,
    }
    assert "\n" not in line


def test_other_libraries_records_become_events_named_after_their_logger() -> None:
    other = record("Run time of job missed")
    other.name = "apscheduler.scheduler"
    assert TextFormatter().format(other) == (
        "2025-12-01T12:00:00.500Z WARNING apscheduler_scheduler Run time of job missed"
    )
