"""The one error a condition can raise: a reason and where in the text it applies."""

from __future__ import annotations

from engine.errors import RapportError


class ConditionError(RapportError):
    """A condition that cannot be read or can never make sense.

    `offset` is 0-based in the condition text so the rule loader can turn it into a
    file column; `reason` already says what is wrong and how to fix it.
    """

    def __init__(self, offset: int, reason: str) -> None:
        self.offset = offset
        self.reason = reason
        super().__init__(reason)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ConditionError):
            return NotImplemented
        return (self.offset, self.reason) == (other.offset, other.reason)

    def __hash__(self) -> int:
        return hash((self.offset, self.reason))

    def __repr__(self) -> str:
        return f"ConditionError(offset={self.offset}, reason={self.reason!r})"
