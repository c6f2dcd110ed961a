"""Replay a recorded run without a model: its actions, in order, on the current screen.

Replay never clicks blindly. Before each action that aims at a point it checks the screen:

- plain replay waits until the pixels around the point look as they did in the recording (a
  small patch of the recorded frame), and stops with a clear message if they never do (a moved
  window, a changed layout);
- ``reground=True`` finds the target again: by its words with OCR when the recording has them
  (the step-follower records its targets), else by finding the recorded patch anywhere on the
  screen (template matching). A target that cannot be found stops the replay.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from PIL import Image

from ..actions import Action, Done, Type, describe, parse_action
from ..errors import ConfigError
from ..geometry import Box, Frame
from ..grounding import GroundedBy, Grounder, Grounding, TargetNotFound
from ..grounding.image import field_beside, match_template
from ..grounding.waiting import wait_for
from ..screen import Screen, changed_fraction
from ..steplog import LoadedRun, StepRecord
from .base import Proposal, StepContext

PATCH = (56, 36)
"""Width and height of the patch around a recorded point that identifies it."""
SAME = 0.03
"""Largest share of a patch's pixels that may differ (beyond anti-aliasing noise) for it to
still look the same. A mean difference is too lenient: a flat button on a flat background
differs only in its border and label."""


def _patch(image: Image.Image, x: int, y: int) -> tuple[Image.Image, int, int]:
    """The patch around (x, y), clamped to the image; returns it and the point's offset in it."""
    w, h = PATCH
    left = max(0, min(image.width - w, x - w // 2))
    top = max(0, min(image.height - h, y - h // 2))
    return image.crop((left, top, left + w, top + h)).convert("RGB"), x - left, y - top


class RecordedRunPolicy:
    """Plays the actions of a loaded run (see the module docstring).

    Args:
        run: The recorded run (`load_run`).
        screen: The screen to check and poll.
        reground: Find targets again instead of trusting the recorded coordinates.
        grounder: For regrounding by words (default: RapidOCR).
        timeout: Seconds each action waits for its target or patch.
    """

    name = "replay"

    def __init__(
        self,
        run: LoadedRun,
        *,
        screen: Screen,
        reground: bool = False,
        grounder: Grounder | None = None,
        timeout: float = 15.0,
        poll: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.run = run
        self.screen = screen
        self.reground = reground
        self._grounder = grounder
        self.timeout = timeout
        self.poll = poll
        self.clock = clock
        self.items: list[tuple[StepRecord, Action]] = []
        for step in run.steps:
            if step.status in ("executed", "dry_run") and step.action:
                action = parse_action(step.action)
                if isinstance(action, Type) and action.secret:
                    raise ConfigError(
                        f"Step {step.index} of {run.path} typed secret text, which the log does not "
                        "keep; such a run cannot be replayed."
                    )
                self.items.append((step, action))
        if not self.items:
            raise ConfigError(f"{run.path} has no executed actions to replay.")
        self._next = 0
        self._frames: dict[int, Image.Image] = {}

    @property
    def grounder(self) -> Grounder:
        if self._grounder is None:
            self._grounder = Grounder()
        return self._grounder

    def preflight(self, frame: Frame) -> None:
        sizes = {tuple(s.frame_size) for s, _ in self.items if s.frame_size}
        if sizes and (frame.width, frame.height) not in sizes:
            (w, h), *_ = sizes
            raise ConfigError(
                f"The run was recorded on a {w}x{h} frame and this screen captures "
                f"{frame.width}x{frame.height}; replay on the same monitor or region size."
            )

    def _recorded_frame(self, step: StepRecord) -> Image.Image | None:
        if step.index not in self._frames:
            if not step.frame or not (self.run.path / step.frame).exists():
                return None
            with Image.open(self.run.path / step.frame) as img:
                self._frames[step.index] = img.convert("RGB")
        return self._frames[step.index]

    def _words(self, step: StepRecord, label: str) -> tuple[str | None, bool]:
        """The recorded target words for the point ``label`` ("" or "to_"), and whether the
        step aimed at the field beside that target (``type ... into X``): from the step's
        typed info (steps), else from a planner's logged target."""
        info = step.step
        if info is not None:
            g = info.to if label == "to_" else info.grounding
            return (g.target if g is not None else None), (label == "" and info.field is not None)
        meta = step.attempts[-1].meta if step.attempts else {}
        target = meta.get("target")
        if label == "" and isinstance(target, str) and isinstance(meta.get("grounding"), dict):
            return target, False
        return None, False

    def _locator(
        self, step: StepRecord, label: str, x: int, y: int
    ) -> tuple[Callable[[Image.Image], Grounding], str]:
        words, field = self._words(step, label)
        if self.reground and words:

            def by_words(image: Image.Image) -> Grounding:
                g = self.grounder.locate(words, image)
                if field:
                    point = field_beside(image, g.box)
                    if point is not None:
                        return Grounding(target=g.target, x=point[0], y=point[1], box=g.box, text=g.text,
                                         score=g.score, grounded_by=g.grounded_by)  # fmt: skip
                return g

            return (
                by_words,
                f"{words!r} (grounded again by {'image' if words.startswith('image:') else 'OCR'})",
            )
        recorded = self._recorded_frame(step)
        if recorded is None:
            raise ConfigError(
                f"Step {step.index}'s screenshot is missing from {self.run.path}; cannot check it."
            )
        patch, dx, dy = _patch(recorded, x, y)
        what = f"the recorded look of ({x}, {y})"

        if self.reground:

            def by_patch(image: Image.Image) -> Grounding:
                matches = match_template(image, patch, threshold=0.9, scales=(1.0,))
                if not matches:
                    raise TargetNotFound(
                        f"{what} is not on the screen (no match scored 0.90 or more)", target=what
                    )
                box, score = matches[0]
                return Grounding(target=what, x=box.x1 + dx, y=box.y1 + dy, box=box, text="", score=score,
                                 grounded_by=GroundedBy.IMAGE)  # fmt: skip

            return by_patch, what + " (found by image)"

        def same_place(image: Image.Image) -> Grounding:
            here, _, _ = _patch(image, x, y)
            diff = changed_fraction(here, patch, tolerance=24)
            if diff > SAME:
                raise TargetNotFound(f"the screen around ({x}, {y}) differs from the recording ({diff:.0%} of the pixels)",
                                     target=what)  # fmt: skip
            return Grounding(target=what, x=x, y=y, box=Box(x1=x - dx, y1=y - dy, x2=x - dx + patch.width,
                             y2=y - dy + patch.height), text="", score=1.0, grounded_by=GroundedBy.RECORDING)  # fmt: skip

        return same_place, what

    def decide(self, ctx: StepContext) -> Proposal:
        if self._next >= len(self.items):
            answer = self.run.meta.result.answer
            return Proposal(
                raw="done", action=Done(success=True, answer=answer), thought="replay finished"
            )
        step, action = self.items[self._next]
        self._next += 1
        thought = f"replay of step {step.index}: {step.thought or describe(action)}"
        frame = ctx.frame
        updates: dict[str, int] = {}
        meta: dict[str, Any] = {"replayed_step": step.index}
        for label, x, y in action.points():
            locate, what = self._locator(step, label, x, y)
            found, frame, m = wait_for(
                locate, self.screen, frame, timeout=self.timeout, poll=self.poll, clock=self.clock
            )
            meta[label or "point"] = m
            if found is None:
                hint = (
                    " The window may have moved or the layout changed: replay with --reground."
                    if not self.reground
                    else ""
                )
                answer = (
                    f"Replay stopped at recorded step {step.index} ({describe(action)}): {what} was not found "
                    f"within {self.timeout:g} s{': ' + m['error'] if 'error' in m else ''}.{hint}"
                )
                return Proposal(
                    raw=thought,
                    action=Done(success=False, answer=answer),
                    thought=thought,
                    meta=meta,
                )
            updates[f"{label}x"], updates[f"{label}y"] = found.x, found.y
        if updates:
            action = action.model_copy(update=updates)
        return Proposal(
            raw=json.dumps(action.model_dump(mode="json")),
            action=action,
            thought=thought,
            meta=meta,
            frame=frame if frame is not ctx.frame else None,
        )
