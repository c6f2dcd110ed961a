"""Composed mode: a planner decides the next step and names its target in words; a grounder
turns the words into a point.

The planner can be any chat model on either backend (a VLM sees the screenshot; with the OCR
grounder it is also given the text on screen, so a text-only model can plan too). Its answer
is one JSON object validated by `PlannedStep`; the grounder is a grounding model
(`ModelGrounder`) or the embedded OCR grounder. A target the grounder cannot find goes back
to the planner as feedback, like any invalid answer.
"""

from __future__ import annotations

import json
from collections import deque
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..actions import format_validation_error
from ..backends import Backend
from ..errors import InvalidOutput
from ..grounding import Grounding, GroundingError
from ..models import feedback_text, json_object
from .base import Proposal, StepContext

HISTORY_STEPS = 8
OCR_HINT_LINES = 80


class PlannedStep(BaseModel):
    """The planner's answer: an action, and its target in words (never coordinates)."""

    model_config = ConfigDict(extra="forbid")

    thought: str | None = None
    action: Literal[
        "click", "double_click", "right_click", "hover", "type", "key", "scroll", "wait", "done"
    ]
    target: str | None = Field(
        default=None, description="The element, in words, as it appears on screen."
    )
    text: str | None = Field(default=None, description="For type: the text to type.")
    keys: list[str] | None = Field(default=None, description="For key: e.g. ['ctrl', 's'].")
    direction: Literal["up", "down", "left", "right"] | None = None
    amount: int | None = Field(default=None, ge=1, le=50)
    seconds: float | None = Field(default=None, ge=0, le=60)
    success: bool = True
    answer: str | None = None


class WordGrounder(Protocol):
    name: str

    def locate(self, target: str, image: Any) -> Grounding: ...


PLANNER_SYSTEM = """You control a computer's GUI to complete the user's task. Each turn you see the current screenshot and decide ONE next step. Answer with one JSON object and nothing else:
{"thought": "<one sentence>", "action": "<action>", ...}
Actions:
- {"action": "click" | "double_click" | "right_click" | "hover", "target": "<the element, in words, as written on screen>"}
- {"action": "type", "text": "<text>", "target": "<the field to type into, optional>"}
- {"action": "key", "keys": ["ctrl", "s"]}
- {"action": "scroll", "direction": "down", "amount": 3, "target": "<where, optional>"}
- {"action": "wait", "seconds": 1}
- {"action": "done", "success": true, "answer": "<what you found, optional>"}
Never give coordinates: name the target by its visible text or a short description."""


def planner_prompt(ctx: StepContext, screen_text: list[str] | None = None) -> str:
    """The planner's user turn: the task, the steps so far, the OCR text of the screen (when
    given) and the feedback on a rejected answer."""
    parts = [f"Task: {ctx.task}"]
    lines = []
    for record in list(ctx.history)[-HISTORY_STEPS:]:
        what = record.thought or json.dumps(record.action or {})
        lines.append(f"{record.index}. {what} -> {record.status}")
    parts.append("Steps so far:\n" + ("\n".join(lines) if lines else "(none)"))
    if screen_text is not None:
        parts.append(
            "Text on screen (OCR, reading order):\n" + "\n".join(screen_text[:OCR_HINT_LINES])
        )
    if ctx.feedback:
        parts.append(feedback_text(ctx.feedback))
    return "\n\n".join(parts)


class PlannerPolicy:
    """Planner + grounder.

    Args:
        planner: The backend of the planning model.
        grounder: A `ModelGrounder` or the OCR `Grounder`.
        screen_text: Give the planner the OCR text of the screen (on by default with OCR).
    """

    def __init__(
        self,
        planner: Backend,
        grounder: WordGrounder,
        *,
        screen_text: bool | None = None,
        context: str = "",
    ) -> None:
        self.planner = planner
        self.context = context
        self.grounder = grounder
        self.name = f"planner:{planner.name}+{getattr(grounder, 'name', 'ocr')}"
        self.screen_text = screen_text if screen_text is not None else hasattr(grounder, "read")
        self._pending: deque[dict[str, Any]] = deque()

    @property
    def backend(self) -> Backend:
        """The planning model's backend (it also answers the final check, ``--verify``)."""
        return self.planner

    def preflight(self, frame: Any) -> None:
        return None

    def prompt(self, ctx: StepContext) -> str:
        """The user turn for this step (the system message is PLANNER_SYSTEM)."""
        lines = None
        if self.screen_text:
            lines = [line.text for line in self.grounder.read(ctx.frame.image)]  # type: ignore[attr-defined]
        prompt = planner_prompt(ctx, lines)
        return f"{prompt}\n\n{self.context}" if self.context else prompt

    def decide(self, ctx: StepContext) -> Proposal:
        if self._pending and not ctx.feedback:
            action = self._pending.popleft()
            return Proposal(
                raw=json.dumps(action), action=action, thought="(continued: type into the field)"
            )
        self._pending.clear()
        completion = self.planner.complete(
            system=PLANNER_SYSTEM, prompt=self.prompt(ctx), image=ctx.frame.image
        )
        text = completion.text
        try:
            step = PlannedStep.model_validate(json_object(text))
        except ValidationError as exc:
            raise InvalidOutput("; ".join(format_validation_error(exc)), raw=text) from None
        except InvalidOutput as exc:
            raise InvalidOutput(str(exc), raw=text) from None
        meta: dict[str, Any] = {
            "planner": self.planner.name, "prompt_tokens": completion.prompt_tokens,
            "completion_tokens": completion.completion_tokens, "generate_seconds": round(completion.seconds, 4),
        }  # fmt: skip
        action, grounding = self._to_action(step, ctx, text)
        if grounding is not None:
            meta["target"] = step.target
            meta["grounding"] = grounding.to_json()
            meta["grounded_by"] = grounding.grounded_by
            extra = getattr(self.grounder, "last_meta", None)
            if extra:
                meta["grounder"] = {k: v for k, v in extra.items() if k != "raw"}
                meta["grounder_raw"] = extra.get("raw")
        return Proposal(raw=text, action=action, thought=step.thought, meta=meta)

    def _ground(self, target: str, ctx: StepContext, raw: str) -> Grounding:
        try:
            return self.grounder.locate(target, ctx.frame.image)
        except GroundingError as exc:
            raise InvalidOutput(
                f"target {target!r} was not found on the screen: {exc}", raw=raw
            ) from None
        except InvalidOutput as exc:
            raise InvalidOutput(
                f"the grounder could not place {target!r}: {exc}", raw=raw
            ) from None

    def _to_action(
        self, step: PlannedStep, ctx: StepContext, raw: str
    ) -> tuple[dict[str, Any], Grounding | None]:
        a = step.action
        if a in ("click", "double_click", "right_click", "hover"):
            if not step.target:
                raise InvalidOutput(f"{a} needs a target in words", raw=raw)
            g = self._ground(step.target, ctx, raw)
            if a == "hover":
                return {"action": "move", "x": g.x, "y": g.y}, g
            return {"action": "click", "x": g.x, "y": g.y, "clicks": 2 if a == "double_click" else 1,
                    "button": "right" if a == "right_click" else "left"}, g  # fmt: skip
        if a == "type":
            if not step.text:
                raise InvalidOutput("type needs text", raw=raw)
            if step.target:  # click the field first; the typing is the next step's job
                g = self._ground(step.target, ctx, raw)
                self._pending.append({"action": "type", "text": step.text})
                return {"action": "click", "x": g.x, "y": g.y}, g
            return {"action": "type", "text": step.text}, None
        if a == "key":
            if not step.keys:
                raise InvalidOutput('key needs keys, e.g. ["enter"]', raw=raw)
            return {"action": "key", "keys": step.keys}, None
        if a == "scroll":
            data: dict[str, Any] = {
                "action": "scroll",
                "direction": step.direction or "down",
                "amount": step.amount or 3,
            }
            if step.target:
                g = self._ground(step.target, ctx, raw)
                return {**data, "x": g.x, "y": g.y}, g
            return data, None
        if a == "wait":
            return {
                "action": "wait",
                "seconds": step.seconds if step.seconds is not None else 1.0,
            }, None
        return {"action": "done", "success": step.success, "answer": step.answer}, None
