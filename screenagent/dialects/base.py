"""What every model family's dialect shares: parsed answers in model space, and the one
conversion of those answers into validated actions in frame pixels.

A parser turns raw model text into `ModelAction`s: the public action schema (see
`screenagent.actions`) with coordinates still in the model's space. Parsers use regular
expressions, ``json`` and ``ast.literal_eval`` on extracted literals only; model text is never
evaluated. Anything unusable raises `InvalidOutput`, which the loop feeds back to the model.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from ..actions import Action, check_bounds, format_validation_error, parse_action
from ..geometry import ModelSpace, model_to_frame, smart_resize
from ..policies.base import InvalidOutput

POINT_FIELDS = (("x", "y"), ("to_x", "to_y"))


@dataclass(frozen=True, kw_only=True)
class ModelAction:
    """One action as the model wrote it: the public schema, coordinates in ``space``."""

    data: dict[str, Any]
    space: ModelSpace | None = None
    """None when the action holds no coordinates (type, key, wait, done)."""


@dataclass(frozen=True, kw_only=True)
class ParsedAnswer:
    thought: str | None
    actions: tuple[ModelAction, ...]


@dataclass(frozen=True, kw_only=True)
class Resize:
    """A family's image resize (Qwen ``smart_resize``); None for families that see the image
    as it is, or whose coordinates are relative."""

    factor: int = 28
    min_pixels: int = 3136
    max_pixels: int = 12845056

    def model_size(self, width: int, height: int) -> tuple[int, int]:
        """(width, height) of the image the model sees."""
        h, w = smart_resize(
            height,
            width,
            factor=self.factor,
            min_pixels=self.min_pixels,
            max_pixels=self.max_pixels,
        )
        return w, h


@dataclass(frozen=True, kw_only=True)
class Dialect:
    """One model family's contract.

    Attributes:
        id: The family id (``ui-tars-1.5``, ``qwen2.5-vl`` ...).
        parse: Raw text and the model-input size -> a ParsedAnswer (raises InvalidOutput).
        resize: The family's default resize, if its coordinates are pixels of a resized image.
        grounding_prompt: The family's official grounding prompt for a target description.
        notes: Where the format comes from.
    """

    id: str
    parse: Callable[[str, tuple[int, int]], ParsedAnswer]
    resize: Resize | None = None
    grounding_prompt: Callable[[str], str] = field(default=lambda target: target)
    agent_prompt: Callable[[str, str], str] | None = None
    """(task, history as text) -> the next-action prompt; None: the grounding prompt of the task."""
    notes: str = ""

    def next_action_prompt(self, task: str, history: str) -> str:
        if self.agent_prompt is not None:
            return self.agent_prompt(task, history)
        prompt = self.grounding_prompt(task)
        return f"{prompt}\n\nPrevious actions:\n{history}" if history else prompt

    def model_input_size(
        self, width: int, height: int, resize: Resize | None = None
    ) -> tuple[int, int]:
        r = resize or self.resize
        return r.model_size(width, height) if r is not None else (width, height)


def to_actions(answer: ParsedAnswer, *, image_width: int, image_height: int) -> list[Action]:
    """Convert a parsed answer to validated actions in image (frame) pixels.

    Raises InvalidOutput for a point outside the model's space or an action the schema rejects.
    """
    out: list[Action] = []
    problems: list[str] = []
    for i, ma in enumerate(answer.actions, 1):
        data = dict(ma.data)
        try:
            for fx, fy in POINT_FIELDS:
                if data.get(fx) is None:
                    continue
                if ma.space is None:
                    raise ValueError("coordinates without a coordinate space")  # a parser bug
                data[fx], data[fy] = model_to_frame(
                    float(data[fx]), float(data[fy]), space=ma.space,
                    frame_width=image_width, frame_height=image_height,
                )  # fmt: skip
            action = parse_action(data)
        except ValueError as exc:
            lines = format_validation_error(exc) if isinstance(exc, ValidationError) else [str(exc)]
            problems += [f"action {i}: {line}" for line in lines]
            continue
        bounds = check_bounds(action, image_width, image_height)
        if bounds:
            problems += [f"action {i}: {b}" for b in bounds]
            continue
        out.append(action)
    if problems:
        raise InvalidOutput("; ".join(problems), raw="")
    if not out:
        raise InvalidOutput("the answer holds no action", raw="")
    return out


# --- parsing helpers shared by several families -----------------------------------------------

_NUM = r"-?\d+(?:\.\d+)?"


def numbers(text: str) -> list[float]:
    return [float(n) for n in re.findall(_NUM, text)]


def point_of(text: str, what: str) -> tuple[float, float]:
    """A point from "(x,y)", "x y", "[x, y]" or a box "(x1,y1,x2,y2)" (its centre)."""
    nums = numbers(text)
    if len(nums) == 2:
        return nums[0], nums[1]
    if len(nums) == 4:
        return (nums[0] + nums[2]) / 2, (nums[1] + nums[3]) / 2
    raise InvalidOutput(
        f"{what}: expected a point (x, y) or a box (x1, y1, x2, y2), got {text!r}", raw=text
    )


def call_kwargs(call: str) -> tuple[str, dict[str, Any]]:
    """Parse ``name(key='value', n=3)`` safely: the syntax tree is inspected and only literal
    keyword values are accepted (``ast.literal_eval`` on each); nothing is executed."""
    try:
        tree = ast.parse(call.strip(), mode="eval")
    except SyntaxError as exc:
        raise InvalidOutput(
            f"cannot read the action {call.strip()!r}: {exc.msg}", raw=call
        ) from None
    node = tree.body
    if not isinstance(node, ast.Call):
        raise InvalidOutput(
            f"{call.strip()!r} is not an action call like click(start_box='(x,y)')", raw=call
        )
    name = ast.unparse(node.func)
    if node.args:
        raise InvalidOutput(
            f"{name}: give arguments by name, like {name}(start_box='(x,y)')", raw=call
        )
    kwargs: dict[str, Any] = {}
    for kw in node.keywords:
        if kw.arg is None:
            raise InvalidOutput(f"{name}: ** arguments are not allowed", raw=call)
        try:
            kwargs[kw.arg] = ast.literal_eval(kw.value)
        except (ValueError, TypeError, RecursionError, MemoryError):
            raise InvalidOutput(
                f"{name}: the value of {kw.arg} must be a literal", raw=call
            ) from None
    return name, kwargs


def done(success: bool, answer: str | None = None) -> ModelAction:
    return ModelAction(data={"action": "done", "success": success, "answer": answer or None})


def split_keys(text: str) -> list[str]:
    """``ctrl c``, ``ctrl+c``, ``Control-C`` -> ["ctrl", "c"]."""
    parts = [p for p in re.split(r"[\s+]+", text.strip()) if p]
    return parts or [text]
