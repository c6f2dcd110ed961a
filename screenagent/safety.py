"""Safety: the one place that decides whether a proposed action may run.

Applied around every execution by the loop: schema and frame bounds (confinement to a region
or monitor is the same check, since only that region is captured), step and time budgets, an
optional confirmation before each action, and secret text kept out of every log.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal, TextIO

from pydantic import ValidationError

from .actions import (
    SECRET_MARKER,
    Action,
    Type,
    check_bounds,
    describe,
    format_validation_error,
    parse_action,
)
from .geometry import Frame

Verdict = Literal["yes", "skip", "quit"]
Confirm = Callable[[int, Action, tuple[tuple[int, int], ...]], Verdict]


@dataclass(frozen=True, kw_only=True)
class Limits:
    """Budgets for one run.

    Attributes:
        max_steps: Steps (executed actions, including skipped ones) before the run stops.
        max_seconds: Wall-clock budget for the whole run.
        max_retries: Extra attempts a policy gets after an invalid answer, per step.
    """

    max_steps: int = 50
    max_seconds: float = 600.0
    max_retries: int = 2


class TerminalConfirm:
    """Ask on the terminal before each action: Enter/y runs it, n skips it, q stops the run."""

    def __init__(self, stdin: TextIO | None = None, stdout: TextIO | None = None) -> None:
        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stderr

    def __call__(self, step: int, action: Action, points: tuple[tuple[int, int], ...]) -> Verdict:
        where = f" at screen {', '.join(f'({x}, {y})' for x, y in points)}" if points else ""
        while True:
            self.stdout.write(f"step {step}: {describe(action)}{where} - run it? [Y/n/q] ")
            self.stdout.flush()
            line = self.stdin.readline()
            if not line:  # end of input: the safe answer
                return "quit"
            answer = line.strip().lower()
            if answer in ("", "y", "yes"):
                return "yes"
            if answer in ("n", "no", "s", "skip"):
                return "skip"
            if answer in ("q", "quit"):
                return "quit"
            self.stdout.write("answer y, n or q\n")


@dataclass
class Redactor:
    """Replaces every known secret in text destined for logs with a marker."""

    secrets: set[str] = field(default_factory=set)

    def add(self, secret: str) -> None:
        if secret:
            self.secrets.add(secret)

    def __call__(self, text: str) -> str:
        for secret in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(secret, SECRET_MARKER)
        return text

    def scrub(self, value: Any) -> Any:
        """Redact every string inside a JSON-like value."""
        if isinstance(value, str):
            return self(value)
        if isinstance(value, list):
            return [self.scrub(v) for v in value]
        if isinstance(value, dict):
            return {k: self.scrub(v) for k, v in value.items()}
        return value


@dataclass
class Safety:
    """Validation, budgets, confirmation and redaction for one run.

    Args:
        limits: Step, time and retry budgets.
        confirm: Asked before each action (None: never ask).
        secrets: Strings that must never appear in logs (passwords given on the command line).
    """

    limits: Limits = field(default_factory=Limits)
    confirm: Confirm | None = None
    redact: Redactor = field(default_factory=Redactor)

    @classmethod
    def build(
        cls,
        *,
        limits: Limits | None = None,
        confirm: Confirm | None = None,
        secrets: Iterable[str] = (),
    ) -> Safety:
        red = Redactor()
        for s in secrets:
            red.add(s)
        return cls(limits=limits or Limits(), confirm=confirm, redact=red)

    def validate(self, proposed: Any, frame: Frame) -> tuple[Action | None, list[str]]:
        """Validate an untrusted proposal against the schema and the frame.

        Returns the action and no errors, or None and messages a model can act on.
        """
        try:
            action = proposed if _is_action(proposed) else parse_action(proposed)
        except ValidationError as exc:
            return None, format_validation_error(exc)
        if isinstance(action, Type) and action.secret:
            self.redact.add(action.text)
        problems = check_bounds(action, frame.width, frame.height)
        if problems:
            return None, problems
        return action, []


def _is_action(value: Any) -> bool:
    from .actions import ACTION_TYPES

    return isinstance(value, ACTION_TYPES)
