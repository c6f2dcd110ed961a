"""Waiting for a target: poll newer frames until it is found, let the screen settle, and
locate it again on the newest frame (act on what is there now, not on a moving screen)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from PIL import Image

from ..geometry import Frame
from ..screen import Screen, SettleConfig, wait_until_settled
from .image import field_beside
from .model import GroundedBy, Grounding, GroundingError


def wait_for(
    locate: Callable[[Image.Image], Grounding],
    screen: Screen,
    frame: Frame,
    *,
    timeout: float,
    poll: float = 0.1,
    settle: SettleConfig | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> tuple[Grounding | None, Frame, dict[str, Any]]:
    """Poll newer frames until ``locate`` finds its target, then let the screen settle and
    locate again on the newest frame (act on what is there now, not on a moving screen).

    Returns (the grounding, or None at the timeout; the frame it refers to; meta for the log).
    """
    settle = settle or SettleConfig(cap_seconds=2.0)
    start = clock()
    last_error: GroundingError | None = None
    looks = 0
    settle_s = 0.0
    while True:
        looks += 1
        try:
            found: Grounding | None = locate(frame.image)
        except GroundingError as exc:
            found, last_error = None, exc
        if found is not None:
            settled = wait_until_settled(screen, config=settle)
            settle_s += settled.seconds
            if settled.changed:
                try:
                    found = locate(settled.last.image)
                    frame = settled.last
                except GroundingError as exc:
                    found, last_error = None, exc
            if found is not None:
                meta = {
                    "grounding": found.to_json(),
                    "waited": round(clock() - start, 3),
                    "settle": round(settle_s, 3),
                    "looks": looks,
                }
                return found, frame, meta
        if clock() - start >= timeout:
            meta = {"waited": round(clock() - start, 3), "looks": looks}
            if last_error is not None:
                meta["error"] = str(last_error)
                meta["candidates"] = [c.describe() for c in last_error.candidates[:3]]
            return None, frame, meta
        time.sleep(poll)
        frame = screen.capture()


def field_point(image: Image.Image, g: Grounding) -> tuple[int, int]:
    """Where to click to type "into" a target: a text label names its field, so aim at the
    field beside it (when OCR, the cache or the tree found a label); the target itself when
    it is the field (an editable node, or a ``field:`` target already aimed at its field)."""
    if g.target.lstrip().lower().startswith("field:") or "editable" in g.states:
        return g.x, g.y
    by_text = g.grounded_by in (GroundedBy.OCR, GroundedBy.CACHE) or (
        g.grounded_by is GroundedBy.TREE and g.role in ("label", "static", "text", "caption")
    )
    point = field_beside(image, g.box) if by_text else None
    return point if point is not None else (g.x, g.y)


