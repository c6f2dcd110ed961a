"""Policies that play recorded actions: a JSON script, or a list of raw model answers."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..actions import Action, Done, check_bounds, format_validation_error, parse_action
from ..errors import ConfigError
from ..geometry import Frame
from .base import Proposal, StepContext


def load_script(path: str | Path) -> list[Action]:
    """Read a JSON script: a list of actions (or ``{"actions": [...]}``).

    Every problem in the file is reported at once, by item number, before anything runs.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"Cannot read the script {path}: {exc.strerror or exc}.") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"The script {path} is not valid JSON: {exc.msg} at line {exc.lineno}, "
            f"column {exc.colno}."
        ) from exc
    if isinstance(data, dict) and set(data) == {"actions"}:
        data = data["actions"]
    if not isinstance(data, list) or not data:
        raise ConfigError(
            f"The script {path} must be a non-empty JSON list of actions, like "
            '[{"action": "click", "x": 10, "y": 20}]. Run `screenagent schema` for every field.'
        )
    actions: list[Action] = []
    problems: list[str] = []
    for i, item in enumerate(data, start=1):
        try:
            actions.append(parse_action(item))
        except ValidationError as exc:
            problems += format_validation_error(exc, prefix=f"action {i}: ")
    if problems:
        raise ConfigError(f"The script {path} has invalid actions:\n  " + "\n  ".join(problems))
    return actions


class ScriptedPolicy:
    """Plays a fixed list of validated actions, one per step; ends with ``done`` if the list
    does not. Every point is checked against the first frame before anything executes."""

    name = "script"

    def __init__(self, actions: Sequence[Action], *, source: str = "script") -> None:
        self.actions = list(actions)
        if not self.actions or not isinstance(self.actions[-1], Done):
            self.actions.append(Done(success=True))
        self.source = source

    def preflight(self, frame: Frame) -> None:
        problems = [
            f"action {i}: {msg}"
            for i, action in enumerate(self.actions, start=1)
            for msg in check_bounds(action, frame.width, frame.height)
        ]
        if problems:
            raise ConfigError(
                f"The {self.source} aims outside the captured frame ({frame.width}x{frame.height}); "
                "nothing was executed:\n  " + "\n  ".join(problems)
            )

    def decide(self, ctx: StepContext) -> Proposal:
        index = min(ctx.step - 1, len(self.actions) - 1)
        action = self.actions[index]
        return Proposal(raw=action.model_dump_json(), action=action)


class ReplayPolicy:
    """Answers with recorded raw texts, one per attempt, as a model would: for replaying a
    transcript and for testing how the loop treats malformed answers and retries.

    Each text is parsed as JSON (an action, or ``{"thought": ..., "action": {...}}``).
    """

    name = "replay"

    def __init__(self, answers: Sequence[str]) -> None:
        self.answers = list(answers)
        self.calls: list[StepContext] = []

    def preflight(self, frame: Frame) -> None:
        return None

    def decide(self, ctx: StepContext) -> Proposal:
        from ..errors import InvalidOutput

        self.calls.append(ctx)
        if len(self.calls) > len(self.answers):
            raw = '{"action": "done", "success": false, "answer": "transcript ended"}'
        else:
            raw = self.answers[len(self.calls) - 1]
        try:
            data: Any = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise InvalidOutput(f"the answer is not valid JSON ({exc.msg})", raw=raw) from None
        thought = None
        if isinstance(data, dict) and "action" in data and isinstance(data["action"], dict):
            thought = data.get("thought")
            data = data["action"]
        return Proposal(raw=raw, action=data, thought=thought)
