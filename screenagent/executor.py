"""Executors carry out validated actions. The pyautogui one lives in `pyautogui_executor`.

An executor receives an action in frame pixels and the frame it refers to, maps every point
through `Frame.to_screen` (the one transform), and reports what it did as an `Outcome`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Protocol

from .actions import Action, Done, Wait, describe
from .geometry import Frame


@dataclass(frozen=True, kw_only=True)
class Outcome:
    """What an executor did with one action.

    Attributes:
        status: "executed", "dry_run" (recorded, not performed), or "failed".
        screen_points: Every screen point the action was aimed at, in order.
        detail: How it was done where that matters (e.g. "typed by pasting").
        error: Why it failed (status "failed").
    """

    status: str
    screen_points: tuple[tuple[int, int], ...] = ()
    detail: str = ""
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status != "failed"


class Executor(Protocol):
    """Performs actions on a screen."""

    name: str

    def execute(self, action: Action, frame: Frame) -> Outcome: ...


def screen_points(action: Action, frame: Frame) -> tuple[tuple[int, int], ...]:
    """The screen points of every frame point in the action."""
    return tuple(frame.to_screen(x, y) for _, x, y in action.points())


@dataclass
class DryRunExecutor:
    """Executes nothing; records what it would have done (and where on the screen)."""

    name: str = "dry-run"
    performed: list[tuple[Action, tuple[tuple[int, int], ...]]] = field(default_factory=list)

    def execute(self, action: Action, frame: Frame) -> Outcome:
        points = screen_points(action, frame)
        self.performed.append((action, points))
        return Outcome(status="dry_run", screen_points=points, detail=f"would {describe(action)}")


def execute_common(action: Action) -> Outcome | None:
    """Actions every real executor performs the same way (no input device involved)."""
    if isinstance(action, Wait):
        time.sleep(action.seconds)  # an explicit wait the policy asked for, not a settle guess
        return Outcome(status="executed")
    if isinstance(action, Done):
        return Outcome(status="executed")
    return None
