"""Named crash points, so crash tests can kill a real daemon at the worst moments.

A crash test starts `rapport daemon` with `RAPPORT_CRASH_AT=NAME` (optionally
`RAPPORT_CRASH_AFTER=N`: crash at the Nth pass, default 1). When the process reaches
`crash_point(NAME)` it kills itself with SIGKILL: no `finally`, no flush, no commit, exactly
like a power cut. Unset, a crash point costs one dictionary lookup.

Names in use are listed in CRASH_POINTS so a test can iterate over all of them.
"""

from __future__ import annotations

import os
import signal

CRASH_POINTS: set[str] = set()
_passes: dict[str, int] = {}


def crash_point(name: str) -> None:
    """Die here, at once, when the environment asks for a crash at `name`."""
    CRASH_POINTS.add(name)
    if os.environ.get("RAPPORT_CRASH_AT") != name:
        return
    _passes[name] = _passes.get(name, 0) + 1
    if _passes[name] >= int(os.environ.get("RAPPORT_CRASH_AFTER", "1")):
        os.kill(os.getpid(), signal.SIGKILL)
