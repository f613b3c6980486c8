"""From a chosen template to a text X will accept, or a refusal with a decision reason.

Order matters: render; if over 280, the step's fallback; then X's mention rules on the
text that would go out. Nothing is truncated or prepended behind the marketer's back: a
text without the recipient's @handle is refused, because where the handle goes (and
whether the post reads as a reply) is the marketer's choice.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from engine.ledger.decisions import Reason
from engine.messages.context import MessageContext
from engine.messages.length import MAX_WEIGHTED_LENGTH, mentions, weighted_length, without_mention
from engine.messages.library import TemplateError, TemplateLibrary

TOO_LONG = Reason.TOO_LONG
NO_HANDLE = Reason.NO_HANDLE
OTHER_MENTIONS = Reason.OTHER_MENTIONS
TEMPLATE_ERROR = Reason.TEMPLATE_ERROR


@dataclass(frozen=True)
class Rendered:
    text: str
    weighted_length: int
    template: str


@dataclass(frozen=True)
class MessageRefusal:
    """Why no text: `reason` is a decision reason (too_long, no_handle, other_mentions,
    template_error); `detail` is the sentence for the marketer."""

    reason: Reason
    detail: str
    template: str | None = None
    weighted_length: int | None = None
    text: str | None = None


def compose_message(
    library: TemplateLibrary,
    *,
    templates: Sequence[str],
    fallback: str | None,
    context: MessageContext,
    handle: str,
    allow_mentions: bool = False,
) -> Rendered | MessageRefusal:
    """Render `templates` in order (normally the one variant already chosen), then
    `fallback`; the first text within 280 is checked against X's mention rules."""
    tried: list[Rendered] = []
    for name in [*templates, *([fallback] if fallback else [])]:
        try:
            text = library.render(name, context)
        except TemplateError as err:
            return MessageRefusal(TEMPLATE_ERROR, str(err), template=name)
        rendered = Rendered(text, weighted_length(text), name)
        if rendered.weighted_length <= MAX_WEIGHTED_LENGTH:
            return check_mentions(rendered, handle, allow_mentions)
        tried.append(rendered)
    if not tried:
        return MessageRefusal(TEMPLATE_ERROR, "the step has no template")
    return _too_long(tried)


def _too_long(tried: list[Rendered]) -> MessageRefusal:
    first, last = tried[0], tried[-1]
    detail = f"weighted length {first.weighted_length} > {MAX_WEIGHTED_LENGTH} ({first.template})"
    if last is not first:
        detail += f"; fallback {last.template} is {last.weighted_length}"
    return MessageRefusal(
        TOO_LONG,
        detail,
        template=last.template,
        weighted_length=last.weighted_length,
        text=last.text,
    )


def check_mentions(
    rendered: Rendered, handle: str, allow_mentions: bool
) -> Rendered | MessageRefusal:
    """The recipient must be @mentioned; anyone else only when the cadence allows it."""
    found = mentions(rendered.text)
    wanted = handle.lstrip("@").lower()
    refusal = None
    if wanted not in {name.lower() for name in found}:
        refusal = (
            NO_HANDLE,
            f"the text does not mention @{handle.lstrip('@')}; start the template with"
            " @{{ customer.handle }}",
        )
    else:
        others = sorted({f"@{name}" for name in found if name.lower() != wanted})
        if others and not allow_mentions:
            refusal = (
                OTHER_MENTIONS,
                f"the text mentions {', '.join(others)}; only the recipient may be mentioned"
                " unless the step sets allow_mentions: true",
            )
    if refusal is None:
        return rendered
    return MessageRefusal(
        refusal[0],
        refusal[1],
        template=rendered.template,
        weighted_length=rendered.weighted_length,
        text=rendered.text,
    )


def duplicate_texts(messages: Iterable[tuple[str, str]]) -> list[set[str]]:
    """Groups of handles (2+) whose texts are identical once their own @handle is removed.

    X refuses duplicate content, so preview warns about these; each group is sorted out
    of the way by its smallest handle for a stable report.
    """
    groups: dict[str, set[str]] = defaultdict(set)
    for handle, text in messages:
        groups[without_mention(text, handle.lstrip("@"))].add(handle)
    duplicates = [handles for handles in groups.values() if len(handles) > 1]
    return sorted(duplicates, key=lambda handles: sorted(h.lower() for h in handles))
